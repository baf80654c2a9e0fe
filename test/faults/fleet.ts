/**
 * The built services as child processes (`services/<name>/dist/main.js`), as an
 * orchestrator runs them: started and awaited until /readyz answers, SIGKILLed and
 * replaced, stopped with SIGTERM. Every process logs to its own file, and an exit the run
 * did not cause is recorded: that is a crash, and a finding.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@labelstream/testkit';

const ROOT = join(__dirname, '..', '..', '..');

export type ServiceName = 'ingest' | 'evaluator' | 'publisher';

export interface ServiceProc {
  readonly id: string;
  readonly name: ServiceName;
  readonly port: number;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Resolves with the exit code, or the signal name. */
  readonly exited: Promise<number | string>;
}

export interface UnexpectedExit {
  id: string;
  at: number;
  code: number | string;
}

export class Fleet {
  private n = 0;
  private readonly live = new Set<ServiceProc>();
  private readonly ending = new Set<ServiceProc>();
  readonly unexpected: UnexpectedExit[] = [];
  readonly starts: Record<ServiceName, number> = { ingest: 0, evaluator: 0, publisher: 0 };

  constructor(
    private readonly envFor: (name: ServiceName) => Record<string, string>,
    private readonly logDir: string,
    private readonly readyTimeoutMs = 180_000,
    /** Entry points other than `services/<name>/dist/main.js`. */
    private readonly mains: Partial<Record<ServiceName, string>> = {},
  ) {}

  /** Starts one process of `name` and waits until it is ready. */
  async start(name: ServiceName): Promise<ServiceProc> {
    const port = await freePort();
    const id = `${name}#${++this.n}`;
    const log = createWriteStream(join(this.logDir, `${id.replace('#', '-')}.log`));
    const child = spawn(process.execPath, [this.mains[name] ?? join(ROOT, 'services', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.envFor(name), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => {
        log.end();
        resolve(code ?? signal ?? 'unknown');
      }),
    );
    const proc: ServiceProc = { id, name, port, child, startedAt: Date.now(), exited };
    this.live.add(proc);
    this.starts[name]++;
    void exited.then((code) => {
      this.live.delete(proc);
      if (!this.ending.has(proc)) this.unexpected.push({ id, at: Date.now(), code });
    });
    await waitFor(
      `${id} to become ready on :${port}`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${id} exited during start-up; see ${id}.log`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return r?.status === 200;
      },
      { timeoutMs: this.readyTimeoutMs, intervalMs: 250 },
    );
    return proc;
  }

  /** Running processes of `name`, oldest first. */
  running(name: ServiceName): ServiceProc[] {
    return [...this.live].filter((p) => p.name === name && !this.ending.has(p));
  }

  /** SIGKILL, and wait for the exit. */
  async kill(proc: ServiceProc): Promise<void> {
    this.ending.add(proc);
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM; SIGKILL after `boundMs`. Resolves with the exit code and how long it took. */
  async stop(proc: ServiceProc, boundMs: number): Promise<{ code: number | string; ms: number; forced: boolean }> {
    this.ending.add(proc);
    const t0 = Date.now();
    proc.child.kill('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      proc.child.kill('SIGKILL');
    }, boundMs);
    const code = await proc.exited;
    clearTimeout(timer);
    return { code, ms: Date.now() - t0, forced };
  }

  /** Stops everything still running (SIGTERM, bounded). */
  async stopAll(boundMs = 20_000): Promise<void> {
    await Promise.all([...this.live].map((p) => this.stop(p, boundMs)));
  }
}
