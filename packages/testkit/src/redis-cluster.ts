/**
 * A Redis Cluster of the test's own (3 masters, 3 replicas), started with the repository's
 * deploy/local/cluster.sh in a directory and on ports of its own, so that a test may kill a
 * master without touching anyone else's Redis.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', '..', 'deploy', 'local', 'cluster.sh');

/** True when nothing listens on `port` of 127.0.0.1. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port p with p…p+5 and their cluster-bus ports (+10000) free. */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = Array.from({ length: 6 }, (_, i) => base + i);
    const free = await Promise.all([...ports, ...ports.map((p) => p + 10_000)].map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no six consecutive free ports (and their +10000 bus ports) found for a Redis Cluster');
}

export class LocalRedisCluster {
  private constructor(
    readonly dir: string,
    readonly basePort: number,
    readonly url: string,
    /** REDIS_CLUSTER_NODE_TIMEOUT: how long a master may be unreachable before its replica takes over. */
    readonly nodeTimeoutMs: number,
  ) {}

  private static env(dir: string, basePort: number, nodeTimeoutMs: number): NodeJS.ProcessEnv {
    return { ...process.env, LABELSTREAM_CLUSTER_DIR: dir, REDIS_CLUSTER_PORT: String(basePort), REDIS_CLUSTER_NODE_TIMEOUT: String(nodeTimeoutMs) };
  }

  /** Starts six redis-server nodes in `dir` and forms the cluster; resolves once it is healthy. */
  static async start(dir: string, opts: { nodeTimeoutMs?: number } = {}): Promise<LocalRedisCluster> {
    const base = await freeBase();
    const env = LocalRedisCluster.env(dir, base, opts.nodeTimeoutMs ?? 2000);
    await run('bash', [SCRIPT, 'up'], { env, timeout: 120_000 });
    const { stdout } = await run('bash', [SCRIPT, 'url'], { env });
    return new LocalRedisCluster(dir, base, stdout.trim(), opts.nodeTimeoutMs ?? 2000);
  }

  private get env(): NodeJS.ProcessEnv {
    return LocalRedisCluster.env(this.dir, this.basePort, this.nodeTimeoutMs);
  }

  /** The six node ports. */
  get ports(): number[] {
    return Array.from({ length: 6 }, (_, i) => this.basePort + i);
  }

  /** Pid of the node on `port`, undefined when it is not running. */
  async pid(port: number): Promise<number | undefined> {
    const out = await run('bash', [SCRIPT, 'pid', String(port)], { env: this.env }).catch(() => undefined);
    return out ? Number(out.stdout.trim()) : undefined;
  }

  /** kill -9 of the node on `port`; resolves once it is gone. */
  async kill9(port: number): Promise<number> {
    const pid = await this.pid(port);
    if (!pid) throw new Error(`no redis-server runs on :${port}`);
    process.kill(pid, 'SIGKILL');
    const gone = (): boolean => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor(`redis-server :${port} (pid ${pid}) to be gone after kill -9`, gone, { timeoutMs: 10_000, intervalMs: 20 });
    return pid;
  }

  /** Starts the node on `port` again on its data; it rejoins the cluster (a replaced master as a replica). */
  async startNode(port: number): Promise<void> {
    await run('bash', [SCRIPT, 'start-node', String(port)], { env: this.env, timeout: 60_000 });
  }

  /** Stops every node and deletes the data. */
  async down(): Promise<void> {
    await run('bash', [SCRIPT, 'down', '--purge'], { env: this.env, timeout: 60_000 }).catch(() => undefined);
  }
}
