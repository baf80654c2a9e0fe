import { Writable } from 'node:stream';
import { createLogger, createMetrics } from '@labelstream/observability';
import { EXIT_CODES } from './exit-codes';
import { acceptsWork, INITIAL_STATE, transition, type LifecycleEvent, type LifecycleState } from './lifecycle';
import { runService, type ProcessPort, type Service } from './run-service';

/** Feeds events in order; returns the final state and every effect. */
function run(events: LifecycleEvent[], from: LifecycleState = INITIAL_STATE) {
  let state = from;
  const effects: unknown[] = [];
  for (const e of events) {
    const [next, out] = transition(state, e);
    state = next;
    effects.push(...out);
  }
  return { state, effects };
}

describe('lifecycle transitions', () => {
  it('is ready only while running', () => {
    expect(acceptsWork(INITIAL_STATE)).toBe(false);
    expect(acceptsWork(run([{ type: 'started' }]).state)).toBe(true);
    expect(acceptsWork(run([{ type: 'started' }, { type: 'signal', signal: 'SIGTERM' }]).state)).toBe(false);
  });

  it('a signal drains once, and a finished drain exits 0', () => {
    const { state, effects } = run([{ type: 'started' }, { type: 'signal', signal: 'SIGTERM' }, { type: 'drained' }]);
    expect(effects).toEqual([{ type: 'drain' }, { type: 'exit', code: EXIT_CODES.STOPPED }]);
    expect(state).toEqual({ phase: 'stopped', exitCode: 0 });
  });

  it('a signal while starting drains too (SIGTERM while joining is clean)', () => {
    expect(run([{ type: 'signal', signal: 'SIGINT' }, { type: 'drained' }]).effects).toEqual([{ type: 'drain' }, { type: 'exit', code: 0 }]);
  });

  it('a fatal error drains, then exits 1 whether or not the drain finished in time', () => {
    expect(run([{ type: 'started' }, { type: 'fatal' }, { type: 'drained' }]).effects).toEqual([{ type: 'drain' }, { type: 'exit', code: EXIT_CODES.FATAL }]);
    expect(run([{ type: 'fatal' }, { type: 'drain-timeout' }]).effects).toEqual([{ type: 'drain' }, { type: 'exit', code: EXIT_CODES.FATAL }]);
    expect(run([{ type: 'fatal' }, { type: 'drain-failed' }]).effects).toEqual([{ type: 'drain' }, { type: 'exit', code: EXIT_CODES.FATAL }]);
  });

  it('a drain after a signal that overruns, fails or meets a second signal exits 3', () => {
    for (const last of ['drain-timeout', 'drain-failed'] as const) {
      expect(run([{ type: 'signal', signal: 'SIGTERM' }, { type: last }]).effects.at(-1)).toEqual({ type: 'exit', code: EXIT_CODES.FORCED });
    }
    expect(run([{ type: 'signal', signal: 'SIGTERM' }, { type: 'signal', signal: 'SIGTERM' }]).effects.at(-1)).toEqual({ type: 'exit', code: EXIT_CODES.FORCED });
  });

  it('begins one drain only: a fatal error while draining after a signal changes nothing', () => {
    const { effects } = run([{ type: 'signal', signal: 'SIGTERM' }, { type: 'fatal' }, { type: 'fatal' }, { type: 'drained' }]);
    expect(effects).toEqual([{ type: 'drain' }, { type: 'exit', code: 0 }]);
  });

  it('does nothing once stopped', () => {
    const stopped = run([{ type: 'signal', signal: 'SIGTERM' }, { type: 'drained' }]).state;
    for (const e of [{ type: 'signal', signal: 'SIGTERM' }, { type: 'fatal' }, { type: 'started' }, { type: 'drained' }] as LifecycleEvent[]) {
      expect(transition(stopped, e)).toEqual([stopped, []]);
    }
  });
});

/** A process whose signals a test raises and whose exit it records. */
function fakeProcess() {
  const handlers = new Map<string, (arg: unknown) => void>();
  const exits: number[] = [];
  const port: ProcessPort = { on: (event, h) => void handlers.set(event, h), exit: (code) => void exits.push(code) };
  return { port, exits, raise: (event: string, arg?: unknown) => handlers.get(event)!(arg) };
}

const quiet = () => createLogger({ service: 'lifecycle-test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('runService (no I/O: composition never reaches the HTTP server)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const options = (compose: () => Promise<Service>, proc: ProcessPort) => ({
    name: 'test',
    logger: quiet(),
    metrics: createMetrics('lifecycle-test', { defaultMetrics: false }),
    http: { host: '127.0.0.1', port: 0 },
    shutdownTimeoutMs: 5000,
    compose,
    process: proc,
  });

  it('a composition that throws is a start-up failure: exit 1', async () => {
    const p = fakeProcess();
    const rt = runService(options(() => Promise.reject(new Error('broker unreachable')), p.port));
    await expect(rt.exited).resolves.toBe(EXIT_CODES.FATAL);
    expect(p.exits).toEqual([1]);
  });

  it('a SIGTERM while composing stops what was built, then exits 0', async () => {
    const p = fakeProcess();
    let finish!: (s: Service) => void;
    const stopped: string[] = [];
    const rt = runService(options(() => new Promise<Service>((resolve) => (finish = resolve)), p.port));
    p.raise('SIGTERM');
    expect(rt.state().phase).toBe('draining');
    finish({ health: () => ({ live: true, ready: true, details: {} }), run: async () => undefined, stop: async () => void stopped.push('stop') });
    await expect(rt.exited).resolves.toBe(0);
    expect(stopped).toEqual(['stop']);
  });

  it('a drain that never finishes exits 3 at the bound', async () => {
    const p = fakeProcess();
    const rt = runService(options(() => new Promise<Service>(() => undefined), p.port));
    p.raise('SIGTERM');
    await jest.advanceTimersByTimeAsync(4999);
    expect(p.exits).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(rt.exited).resolves.toBe(EXIT_CODES.FORCED);
  });

  it('an unhandled rejection takes the fatal path: exit 1 after the drain', async () => {
    const p = fakeProcess();
    const rt = runService(options(() => new Promise<Service>(() => undefined), p.port));
    p.raise('unhandledRejection', new TypeError('x is undefined'));
    await jest.advanceTimersByTimeAsync(5000);
    await expect(rt.exited).resolves.toBe(EXIT_CODES.FATAL);
    expect(p.exits).toEqual([1]);
  });
});
