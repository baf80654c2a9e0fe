/**
 * The one way tests, the fault run and the benchmark run a built service
 * (`services/<name>/dist/main.js`) as a child process, as an operator does: environment in,
 * a free HTTP port, readiness awaited on /readyz with a bound, output kept (and written to a
 * log file when asked), stopped with SIGTERM (SIGKILL past a bound) or SIGKILL, the exit
 * code reported (deploy/RUNBOOK.md, "Exit codes").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from './wait';

/** The repository root: this file is packages/testkit/{src,dist}/. */
const ROOT = join(__dirname, '..', '..', '..');

export type ServiceName = 'ingest' | 'evaluator' | 'publisher';

export interface SpawnServiceOptions {
  /** Environment of the service (PATH is added; HTTP_HOST is 127.0.0.1; HTTP_PORT a free port unless given). */
  env: Record<string, string>;
  /** Also write everything it prints to this file. */
  logFile?: string;
  /** Node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Another entry point than `services/<name>/dist/main.js`. */
  main?: string;
  /** Wait for /readyz to answer 200 before resolving (default true), at most this long (default 60 s). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopResult extends ExitStatus {
  /** From the signal to the exit. */
  ms: number;
  /** SIGKILLed because it had not exited within the bound. */
  forced: boolean;
}

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly port: number;
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly logFile?: string;
  /** The last 100–200 kB it printed (stdout and stderr). */
  output(): string;
  /** Resolves once it exited and its output was read. */
  readonly exited: Promise<ExitStatus>;
  alive(): boolean;
  /** Waits until /readyz answers 200; fails at once if it exits meanwhile. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `boundMs` (default 15 s). */
  stop(boundMs?: number): Promise<StopResult>;
  /** SIGKILL. */
  kill(): Promise<ExitStatus>;
  metrics(): Promise<string>;
}

function tail(text: string, chars = 3000): string {
  return text.length > chars ? text.slice(-chars) : text;
}

/** Starts a built service and (by default) waits until it is ready; a failed start kills it and says why, with its output. */
export async function spawnService(name: ServiceName, opts: SpawnServiceOptions): Promise<ServiceProcess> {
  const port = Number(opts.env.HTTP_PORT) || (await freePort());
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.main ?? join(ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HTTP_HOST: '127.0.0.1', ...opts.env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
    log?.write(b);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // 'close', not 'exit': the last lines of output have been read by then.
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      log?.end();
      resolve({ code, signal });
    }),
  );
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const where = opts.logFile ? `; see ${opts.logFile}` : '';

  const svc: ServiceProcess = {
    name,
    port,
    child,
    startedAt: Date.now(),
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    output: () => out,
    exited,
    alive,
    async waitReady(timeoutMs = opts.readyTimeoutMs ?? 60_000) {
      await waitFor(
        `${name} to become ready on :${port}`,
        async () => {
          if (!alive()) throw new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before becoming ready${where}:\n${tail(out)}`);
          const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
          return r?.status === 200;
        },
        { timeoutMs, intervalMs: 200 },
      );
    },
    async stop(boundMs = 15_000) {
      const t0 = Date.now();
      let forced = false;
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        forced = true;
        child.kill('SIGKILL');
      }, boundMs);
      const status = await exited;
      clearTimeout(timer);
      return { ...status, ms: Date.now() - t0, forced };
    },
    async kill() {
      if (alive()) child.kill('SIGKILL');
      return exited;
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text(),
  };
  if (opts.waitReady === false) return svc;
  try {
    await svc.waitReady();
  } catch (e) {
    await svc.kill();
    throw new Error(`${(e as Error).message}\n--- ${name} output${where} ---\n${tail(out)}`);
  }
  return svc;
}

/**
 * Runs a built service until it exits by itself (SIGKILL after `timeoutMs`): for start-up
 * failures. Resolves with the exit code, everything it printed, and how long it ran.
 */
export async function runServiceUntilExit(name: ServiceName, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string; ms: number }> {
  const svc = await spawnService(name, { env, waitReady: false });
  const timer = setTimeout(() => svc.child.kill('SIGKILL'), timeoutMs);
  const { code } = await svc.exited;
  clearTimeout(timer);
  return { code, output: svc.output(), ms: Date.now() - svc.startedAt };
}
