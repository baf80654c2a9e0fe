/**
 * A private Kafka broker and schema registry for runs that restart the broker: started with
 * the repository's own `deploy/local/stack.sh` in a directory and on ports of the run's
 * own, so a restart never disturbs the shared broker other people's tests use.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@labelstream/testkit';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const STACK = join(ROOT, 'deploy', 'local', 'stack.sh');

export class PrivateStack {
  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly brokers: string,
    readonly registryUrl: string,
  ) {}

  /** Starts Kafka (KRaft) and Apicurio Registry in `dir`; Redis is the run's own (`redisUrl`). */
  static async start(dir: string, redisUrl: string): Promise<PrivateStack> {
    const [kafka, controller, registry] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      LABELSTREAM_STACK_DIR: dir,
      KAFKA_PORT: String(kafka),
      KAFKA_CONTROLLER_PORT: String(controller),
      REGISTRY_PORT: String(registry),
      LABELSTREAM_REDIS_URL: redisUrl,
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx768m',
    };
    const s = new PrivateStack(dir, env, `127.0.0.1:${kafka}`, `http://127.0.0.1:${registry}/apis/ccompat/v7`);
    await s.up();
    return s;
  }

  private async up(): Promise<void> {
    await run('bash', [STACK, 'up'], { env: this.env, cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  }

  /** Pid of the broker this run started (from the private stack's pid file). */
  private brokerPid(): number {
    const [pid] = readFileSync(join(this.dir, 'pids', 'kafka.pid'), 'utf8').trim().split(/\s+/);
    return Number(pid);
  }

  /** Stops the broker (SIGTERM: a controlled shutdown, as in a rolling restart), waits `downMs`, starts it again. */
  async restartBroker(downMs: number): Promise<void> {
    const pid = this.brokerPid();
    process.kill(pid, 'SIGTERM');
    await waitFor(`private broker (pid ${pid}) to exit`, () => !alive(pid), { timeoutMs: 60_000, intervalMs: 200 });
    await new Promise((r) => setTimeout(r, downMs));
    await this.up();
  }

  /** Stops everything and deletes its data. */
  async down(): Promise<void> {
    await run('bash', [STACK, 'down', '--purge'], { env: this.env, cwd: ROOT, timeout: 120_000 }).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes.
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
