/**
 * The built services as child processes (`services/<name>/dist/main.js`), as an
 * orchestrator runs them: started and awaited until /readyz answers, SIGKILLed and
 * replaced, stopped with SIGTERM. Every process logs to its own file, and an exit the run
 * did not cause is recorded: that is a crash, and a finding.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { spawnService, type ServiceName, type ServiceProcess } from '@labelstream/testkit';

export type { ServiceName };

export interface ServiceProc {
  readonly id: string;
  readonly name: ServiceName;
  readonly port: number;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Resolves with the exit code, or the signal name. */
  readonly exited: Promise<number | string>;
  readonly svc: ServiceProcess;
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
    const id = `${name}#${++this.n}`;
    const svc = await spawnService(name, {
      env: this.envFor(name),
      logFile: join(this.logDir, `${id.replace('#', '-')}.log`),
      waitReady: false,
      ...(this.mains[name] ? { main: this.mains[name] } : {}),
    });
    const exited = svc.exited.then(({ code, signal }) => code ?? signal ?? 'unknown');
    const proc: ServiceProc = { id, name, port: svc.port, child: svc.child, startedAt: svc.startedAt, exited, svc };
    this.live.add(proc);
    this.starts[name]++;
    void exited.then((code) => {
      this.live.delete(proc);
      if (!this.ending.has(proc)) this.unexpected.push({ id, at: Date.now(), code });
    });
    await svc.waitReady(this.readyTimeoutMs);
    return proc;
  }

  /** Running processes of `name`, oldest first. */
  running(name: ServiceName): ServiceProc[] {
    return [...this.live].filter((p) => p.name === name && !this.ending.has(p));
  }

  /** SIGKILL, and wait for the exit. */
  async kill(proc: ServiceProc): Promise<void> {
    this.ending.add(proc);
    await proc.svc.kill();
  }

  /** SIGTERM; SIGKILL after `boundMs`. Resolves with the exit code and how long it took. */
  async stop(proc: ServiceProc, boundMs: number): Promise<{ code: number | string; ms: number; forced: boolean }> {
    this.ending.add(proc);
    const { ms, forced } = await proc.svc.stop(boundMs);
    return { code: await proc.exited, ms, forced };
  }

  /** Stops everything still running (SIGTERM, bounded). */
  async stopAll(boundMs = 20_000): Promise<void> {
    await Promise.all([...this.live].map((p) => this.stop(p, boundMs)));
  }
}
