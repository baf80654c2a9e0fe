/**
 * The fault run's own Redis Cluster (3 masters, 3 replicas; deploy/local/cluster.sh through
 * the testkit's LocalRedisCluster). Its fault: kill -9 of a master, its replica promoted
 * by the cluster, then the old master started again on its data — it rejoins as a replica
 * of its successor, so the next failover has a replica to promote. Replication is
 * asynchronous: what the master acknowledged but had not yet sent to its replica is lost
 * with it (RELIABILITY.md, "Redis Cluster"), unless the evaluators WAIT (REDIS_WAIT_REPLICAS).
 */
import { Redis } from 'ioredis';
import type { Rng } from '@labelstream/generator';
import { LocalRedisCluster, waitFor } from '@labelstream/testkit';
import type { RedisUnderFault } from './chaos';

interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
  slots: string[];
}

export class OwnRedisCluster implements RedisUnderFault {
  readonly faultKind = 'redis-failover';

  private constructor(readonly cluster: LocalRedisCluster) {}

  static async start(dir: string): Promise<OwnRedisCluster> {
    return new OwnRedisCluster(await LocalRedisCluster.start(dir, { nodeTimeoutMs: 2000 }));
  }

  get url(): string {
    return this.cluster.url;
  }

  /** One node's reply to `args`, undefined when it does not answer. */
  private async ask(port: number, ...args: string[]): Promise<string | undefined> {
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return String(await r.call(args[0]!, ...args.slice(1)));
    } catch {
      return undefined;
    } finally {
      r.disconnect();
    }
  }

  /** CLUSTER NODES as one node (other than `not`) sees it. */
  private async nodes(not?: number): Promise<NodeLine[]> {
    for (const port of this.cluster.ports) {
      if (port === not) continue;
      const text = await this.ask(port, 'CLUSTER', 'NODES');
      if (!text) continue;
      return text
        .trim()
        .split('\n')
        .map((line) => {
          const [id, addr, flags, masterId, , , , , ...slots] = line.trim().split(' ');
          return { id: id!, port: Number(addr!.split('@')[0]!.split(':')[1]), flags: flags!.split(','), masterId: masterId!, slots };
        });
    }
    throw new Error('no node of the Redis Cluster answers');
  }

  /** kill -9 of a random master; resolves once its replica serves its slots and it is back as a replica. */
  async injectFault(rng: Rng): Promise<string> {
    const t0 = Date.now();
    const masters = (await this.nodes()).filter((n) => n.flags.includes('master') && n.slots.length > 0 && !n.flags.includes('fail'));
    const victim = masters[rng.int(0, masters.length - 1)]!;
    // The master's replication offset a moment before the kill: compared with where its
    // replica's copy of the stream ended when it was promoted, the bytes of acknowledged
    // writes the failover lost (at least: writes in between are not counted).
    const offsetBefore = Number(/master_repl_offset:(\d+)/.exec((await this.ask(victim.port, 'INFO', 'replication')) ?? '')?.[1] ?? NaN);
    const pid = await this.cluster.kill9(victim.port);
    let promoted: NodeLine | undefined;
    await waitFor(
      `a replica of :${victim.port} to take over its slots`,
      async () => {
        const view = await this.nodes(victim.port).catch(() => []);
        promoted = view.find((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.join(' ') === victim.slots.join(' ') && n.id !== victim.id);
        const ok = (await this.ask(promoted?.port ?? 0, 'CLUSTER', 'INFO'))?.includes('cluster_state:ok');
        return Boolean(promoted && ok);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const failedOverMs = Date.now() - t0;
    // second_repl_offset: the offset (+1) up to which the promoted replica had its old master's stream
    const promotedAt = Number(/second_repl_offset:(-?\d+)/.exec((await this.ask(promoted!.port, 'INFO', 'replication')) ?? '')?.[1] ?? NaN) - 1;
    const lost = offsetBefore - promotedAt;
    await new Promise((r) => setTimeout(r, rng.int(500, 3000)));
    await this.cluster.startNode(victim.port);
    await waitFor(
      `:${victim.port} to rejoin as a replica`,
      async () => {
        const role = await this.ask(victim.port, 'ROLE');
        const info = await this.ask(victim.port, 'INFO', 'replication');
        return Boolean(role?.startsWith('slave') && info?.includes('master_link_status:up'));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return `kill -9 master :${victim.port} (pid ${pid}, slots ${victim.slots.join(' ')}); replica :${promoted!.port} promoted after ${(failedOverMs / 1000).toFixed(1)} s, ${Number.isFinite(lost) ? `${Math.max(0, lost)} bytes of the master's replication stream missing from it` : 'replication offsets unknown'}; :${victim.port} back as its replica after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
  }

  async stop(): Promise<void> {
    await this.cluster.down();
  }
}
