import { EXIT_CODES, type ExitCode } from './exit-codes';

/**
 * The phases of a service process. `starting`: building clients and joining; `running`:
 * consuming, the only phase /readyz can answer ready in; `draining`: stopping after a
 * signal or a fatal error, within a bound; `stopped`: the exit code is decided.
 */
export type Phase = 'starting' | 'running' | 'draining' | 'stopped';

export interface LifecycleState {
  readonly phase: Phase;
  /** Why draining began: decides the exit code once drained. */
  readonly cause?: 'signal' | 'fatal';
  readonly exitCode?: ExitCode;
}

export type LifecycleEvent =
  | { type: 'started' }
  | { type: 'signal'; signal: string }
  | { type: 'fatal' }
  | { type: 'drained' }
  | { type: 'drain-failed' }
  | { type: 'drain-timeout' };

/** What the runtime must do after a transition: begin draining (once), or exit with a code. */
export type Effect = { type: 'drain' } | { type: 'exit'; code: ExitCode };

export const INITIAL_STATE: LifecycleState = Object.freeze({ phase: 'starting' });

const stopped = (code: ExitCode): [LifecycleState, Effect[]] => [{ phase: 'stopped', exitCode: code }, [{ type: 'exit', code }]];

/**
 * The lifecycle as a pure transition function, shared by the three services:
 * - a signal or a fatal error while starting or running begins one drain;
 * - a drain that finishes exits 0 after a signal, 1 after a fatal error;
 * - a drain that fails or overruns its bound, or a second signal, exits 3 — except that a
 *   fatal error keeps its 1 (the orchestrator should see the cause, not the symptom);
 * - a fatal error while draining after a signal changes nothing (stopping clients can
 *   make them fail; the drain is already under way and bounded);
 * - nothing happens after `stopped`.
 */
export function transition(state: LifecycleState, event: LifecycleEvent): [LifecycleState, Effect[]] {
  switch (state.phase) {
    case 'starting':
    case 'running':
      if (event.type === 'started') return [{ phase: 'running' }, []];
      if (event.type === 'signal') return [{ phase: 'draining', cause: 'signal' }, [{ type: 'drain' }]];
      if (event.type === 'fatal') return [{ phase: 'draining', cause: 'fatal' }, [{ type: 'drain' }]];
      return [state, []];
    case 'draining': {
      const failed = state.cause === 'fatal' ? EXIT_CODES.FATAL : EXIT_CODES.FORCED;
      if (event.type === 'drained') return stopped(state.cause === 'fatal' ? EXIT_CODES.FATAL : EXIT_CODES.STOPPED);
      if (event.type === 'drain-failed' || event.type === 'drain-timeout' || event.type === 'signal') return stopped(failed);
      return [state, []];
    }
    case 'stopped':
      return [state, []];
  }
}

/** /readyz answers ready only while running (and the components say so). */
export function acceptsWork(state: LifecycleState): boolean {
  return state.phase === 'running';
}
