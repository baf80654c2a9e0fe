/**
 * The fault run's own redis-server, so that `kill -9` never hits the Redis other people's
 * tests use. AOF with `appendfsync always`: every acknowledged write is on disk before the
 * reply, so a kill -9 loses nothing the evaluator was told is committed (with `everysec`
 * up to a second of commits could vanish; see RELIABILITY.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Rng } from '@labelstream/generator';
import { freePort, waitFor } from '@labelstream/testkit';
import type { RedisUnderFault } from './chaos';

export class OwnRedis implements RedisUnderFault {
  readonly faultKind = 'redis-kill9';

  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<OwnRedis> {
    mkdirSync(dir, { recursive: true });
    const r = new OwnRedis(await freePort(), dir);
    await r.launch();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', join(this.dir, 'redis.log')];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(`redis-server on :${this.port}`, () => this.ping(), { timeoutMs: 30_000, intervalMs: 100 });
  }

  /** True when the server answers PING. */
  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('error', () => done(false));
      socket.once('data', (b) => done(b.toString().startsWith('+PONG')));
      socket.once('connect', () => socket.write('PING\r\n'));
    });
  }

  /** kill -9, then start again on the same port and data directory (the AOF is replayed). */
  async kill9AndRestart(downMs: number): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** kill -9, down for 0.5–3 s, restarted from its AOF. */
  async injectFault(rng: Rng): Promise<string> {
    const pid = this.pid;
    await this.kill9AndRestart(rng.int(500, 3000));
    return `kill -9 redis-server (pid ${pid}), restarted (pid ${this.pid}) from its AOF`;
  }

  /** Stops the server (SIGKILL: its data is thrown away with the run). */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
