import { startHttpServer, type AdminRoute, type HealthReport, type Logger, type Metrics } from '@labelstream/observability';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { acceptsWork, INITIAL_STATE, transition, type LifecycleEvent, type LifecycleState } from './lifecycle';

/** What a service's composition hands to the lifecycle. */
export interface Service {
  /** The components' own health; the lifecycle adds its phase (ready only while running). */
  health(): HealthReport;
  /** Begins the work: joins the consumer groups, starts timers. Resolves once started. */
  run(): Promise<void>;
  /**
   * Stops gracefully: stop consuming, finish and commit the batch in flight, leave the
   * groups (so partitions move at once), close producers and Redis. Bounded by the lifecycle.
   */
  stop(): Promise<void>;
  /** Token-protected admin routes, by first path segment after /admin/. */
  admin?: Record<string, AdminRoute>;
}

/** Handed to a composition: the one way a component reports a fatal error. */
export interface LifecycleHooks {
  /** Logs `message` with the error (fatal), marks the service not ready, drains within the bound, exits 1. */
  fatal(err: unknown, message: string): void;
}

/** The process as the lifecycle uses it; a test passes its own. */
export interface ProcessPort {
  on(event: 'SIGTERM' | 'SIGINT' | 'uncaughtException' | 'unhandledRejection', handler: (arg: unknown) => void): void;
  exit(code: ExitCode): void;
}

export interface RunServiceOptions {
  name: string;
  logger: Logger;
  metrics: Metrics;
  http: { host: string; port: number; adminToken?: string };
  /** Upper bound on draining (SHUTDOWN_TIMEOUT): past it the process exits 3 (1 after a fatal error). */
  shutdownTimeoutMs: number;
  /** Builds the components (config → clients → service). A throw is a start-up failure: exit 1. */
  compose(hooks: LifecycleHooks): Promise<Service>;
  process?: ProcessPort;
}

/** A running service's handle, for logs and tests. */
export interface ServiceRuntime {
  state(): LifecycleState;
  /** Resolves with the exit code once decided. */
  exited: Promise<ExitCode>;
}

/**
 * The lifecycle of the three services: compose, serve /metrics /healthz /readyz, run; on
 * SIGTERM/SIGINT or a fatal error, drain once within `shutdownTimeoutMs`, then exit with a
 * code from {@link EXIT_CODES}. Signal handlers are installed before composing, so a
 * SIGTERM while joining is clean too.
 */
export function runService(opts: RunServiceOptions): ServiceRuntime {
  const { logger, metrics } = opts;
  const proc: ProcessPort = opts.process ?? (process as unknown as ProcessPort);
  let state: LifecycleState = INITIAL_STATE;
  let composing: Promise<Service> | undefined;
  let service: Service | undefined;
  let http: { port: number; close(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settle!: (code: ExitCode) => void;
  const exited = new Promise<ExitCode>((resolve) => (settle = resolve));

  const dispatch = (event: LifecycleEvent): void => {
    const [next, effects] = transition(state, event);
    state = next;
    for (const effect of effects) {
      if (effect.type === 'drain') void drain();
      else exit(effect.code);
    }
  };

  const exit = (code: ExitCode): void => {
    clearTimeout(timer);
    logger[code === EXIT_CODES.STOPPED ? 'info' : 'error']({ exitCode: code }, code === EXIT_CODES.STOPPED ? 'stopped cleanly' : 'exiting');
    logger.flush?.();
    settle(code);
    proc.exit(code);
  };

  async function drain(): Promise<void> {
    metrics.ready.set(0);
    logger.info({ cause: state.cause, timeoutMs: opts.shutdownTimeoutMs }, 'draining');
    timer = setTimeout(() => {
      logger.error({ timeoutMs: opts.shutdownTimeoutMs }, 'stopping did not finish in time');
      dispatch({ type: 'drain-timeout' });
    }, opts.shutdownTimeoutMs);
    timer.unref();
    try {
      // A drain that begins while composing stops what the composition built.
      const s = service ?? (await composing?.catch(() => undefined));
      await s?.stop();
      await http?.close();
      dispatch({ type: 'drained' });
    } catch (err) {
      logger.error({ err }, 'stopping failed');
      dispatch({ type: 'drain-failed' });
    }
  }

  const hooks: LifecycleHooks = {
    fatal(err, message) {
      if (state.phase === 'starting' || state.phase === 'running') logger.fatal({ err }, message);
      else logger.warn({ err }, `${message} (while stopping)`);
      dispatch({ type: 'fatal' });
    },
  };
  const onSignal = (signal: string) => () => {
    if (state.phase === 'draining') logger.warn({ signal }, 'second signal: exiting now');
    else logger.info({ signal, timeoutMs: opts.shutdownTimeoutMs }, 'shutting down');
    dispatch({ type: 'signal', signal });
  };
  proc.on('SIGTERM', onSignal('SIGTERM'));
  proc.on('SIGINT', onSignal('SIGINT'));
  proc.on('uncaughtException', (err) => hooks.fatal(err, 'uncaught exception'));
  proc.on('unhandledRejection', (err) => hooks.fatal(err, 'unhandled promise rejection'));

  const health = (): HealthReport => {
    const h = service?.health() ?? { live: true, ready: false, details: {} };
    const ready = acceptsWork(state) && h.ready;
    metrics.ready.set(ready ? 1 : 0);
    return { live: h.live && state.phase !== 'stopped', ready, details: { phase: state.phase, ...h.details } };
  };

  void (async () => {
    try {
      composing = opts.compose(hooks);
      service = await composing;
      if (state.phase !== 'starting') return; // draining: drain() stops it
      const admin = service.admin ? { admin: { ...(opts.http.adminToken ? { token: opts.http.adminToken } : {}), routes: service.admin } } : {};
      const server = await startHttpServer({ host: opts.http.host, port: opts.http.port, registry: metrics.registry, logger, health, ...admin });
      http = server;
      logger.info({ port: server.port }, 'http endpoints listening (/metrics, /healthz, /readyz)');
      if (state.phase !== 'starting') return;
      await service.run();
      dispatch({ type: 'started' });
    } catch (err) {
      // Stopping under run() makes it fail: that is the drain's business, not a new fatal.
      if (state.phase === 'starting') hooks.fatal(err, `${opts.name} failed to start`);
    }
  })();

  return { state: () => state, exited };
}

/**
 * The share of the drain bound a consumer runner gets for its own stop (it may take up to
 * about twice its bound: finish batches, stop, disconnect), leaving the rest for producers,
 * Redis and the HTTP server.
 */
export function runnerStopBound(shutdownTimeoutMs: number): number {
  return Math.max(1000, Math.floor(shutdownTimeoutMs * 0.45));
}

/**
 * Runs `load` (reading and validating configuration); on any error prints
 * `<service>: <message>` to stderr and exits 2 ({@link EXIT_CODES.CONFIG}) before anything starts.
 */
export function configOrExit<T>(service: string, load: () => T, proc: Pick<ProcessPort, 'exit'> = process as unknown as ProcessPort): T {
  try {
    return load();
  } catch (err) {
    process.stderr.write(`${service}: ${err instanceof Error ? err.message : String(err)}\n`);
    proc.exit(EXIT_CODES.CONFIG);
    throw err; // only reached when `proc.exit` returns (a test's port)
  }
}
