/**
 * How a Labelstream service process ends (deploy/RUNBOOK.md, "Exit codes"). An orchestrator
 * restarts on any non-zero code; the code says why, without reading the logs.
 */
export const EXIT_CODES = Object.freeze({
  /** Stopped by SIGTERM/SIGINT: batch in flight committed, group left, clients closed, within the bound. */
  STOPPED: 0,
  /** A fatal error, at start-up or at run time (consumer gave up, expelled too often): drained within the bound first. */
  FATAL: 1,
  /** Invalid configuration: nothing was started. */
  CONFIG: 2,
  /** Stopping did not finish within its bound, or a second signal arrived while stopping. */
  FORCED: 3,
});

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
