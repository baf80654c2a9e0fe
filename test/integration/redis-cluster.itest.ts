/**
 * The evaluator's state on a real Redis Cluster (3 masters, 3 replicas, started for the
 * test from deploy/local/cluster.sh): every script and pipeline of a partition stays in
 * one slot, partitions spread over the masters, REDIS_WAIT_REPLICAS waits for a replica,
 * and the evaluator service labels customers and explains them with REDIS_URL=redis+cluster://….
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisClient, mastersOf, NotReplicatedError, PartitionKeys, PartitionStore, type RedisClient } from '@labelstream/redis-state';
import { collect, connectStack, LocalRedisCluster, testKafka, uniqueName, type StackEnv } from '@labelstream/testkit';
import { decodeDecisions, makeTopics, produceEvents, purchaseEvent } from '../support/evaluator-harness';
import { startService, type RunningService } from '../support/services';

let env: StackEnv;
let dir: string;
let cluster: LocalRedisCluster;
let redis: RedisClient;

beforeAll(async () => {
  env = await connectStack();
  dir = mkdtempSync(join(tmpdir(), 'ls-redis-cluster-'));
  cluster = await LocalRedisCluster.start(dir);
  redis = createRedisClient(cluster.url);
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await cluster?.down();
  rmSync(dir, { recursive: true, force: true });
});

/** Every key of the prefix, read with SCAN on each master (a cluster client's own SCAN sees one node). */
async function keysByMaster(prefix: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const node of mastersOf(redis)) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    out.set(`${node.options.host}:${node.options.port}`, keys);
  }
  return out;
}

describe('Redis Cluster', () => {
  it('keeps each partition in one slot and spreads partitions over the masters', async () => {
    const prefix = uniqueName('it-rc').toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 32);
    const partitions = 12;
    for (let p = 0; p < partitions; p++) {
      const store = new PartitionStore(redis, prefix, p);
      expect(await store.claim()).toBe(1);
      const seqs = await store.commit([
        { customerId: `c-${p}-a`, expectedVersion: 0, state: `s${p}a`, dueAt: 1000 + p, decisions: [{ decision: `d${p}a`, historyEntry: `h${p}a` }], ids: { add: [[`e${p}`, 5]], horizon: 0 } },
        { customerId: `c-${p}-b`, expectedVersion: 0, state: `s${p}b`, dueAt: null, decisions: [{ decision: `d${p}b` }] },
      ]);
      expect(seqs).toEqual([[1], [2]]);
      const loaded = await store.load([`c-${p}-a`, `c-${p}-b`], { ids: true });
      expect(loaded.get(`c-${p}-a`)).toMatchObject({ version: 1, state: `s${p}a`, dueAt: 1000 + p });
      expect([...loaded.get(`c-${p}-a`)!.ids!]).toEqual([[`e${p}`, 5]]);
      expect((await store.pendingOutbox()).map((e) => e.decision)).toEqual([`d${p}a`, `d${p}b`]);
      await store.ack(2);
      expect(await store.outboxLength()).toBe(0);
      expect(await store.dueTimers(5000)).toEqual([{ customerId: `c-${p}-a`, dueAt: 1000 + p }]);
      expect(await store.history(`c-${p}-a`)).toEqual([`h${p}a`]);
    }
    const byMaster = await keysByMaster(prefix);
    expect(byMaster.size).toBe(3);
    // Every master holds some partitions, and each partition's keys live on exactly one master.
    const partitionOf = (k: string) => /\{p(\d+)\}/.exec(k)![1]!;
    const homes = new Map<string, Set<string>>();
    for (const [node, keys] of byMaster) for (const k of keys) homes.set(partitionOf(k), (homes.get(partitionOf(k)) ?? new Set()).add(node));
    expect(homes.size).toBe(partitions);
    for (const nodes of homes.values()) expect(nodes.size).toBe(1);
    for (const keys of byMaster.values()) expect(keys.length).toBeGreaterThan(0);
    expect(new PartitionKeys(prefix, 3).customer('x')).toContain('{p3}');
  });

  it('waits for a replica with REDIS_WAIT_REPLICAS and fails the commit when too few acknowledge', async () => {
    const prefix = uniqueName('it-rcw').toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 32);
    const one = new PartitionStore(redis, prefix, 0, { wait: { replicas: 1, timeoutMs: 2000 } });
    await one.claim();
    expect(await one.commit([{ customerId: 'c', expectedVersion: 0, state: 's', dueAt: null, decisions: [{ decision: 'd' }] }])).toEqual([[1]]);
    expect(await one.pendingOutbox()).toHaveLength(1);
    // Each master has one replica: asking for two must fail, as retriable, after the timeout.
    const two = new PartitionStore(redis, prefix, 1, { wait: { replicas: 2, timeoutMs: 200 } });
    await two.claim();
    const err = await two.commit([{ customerId: 'c', expectedVersion: 0, state: 's', dueAt: null }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotReplicatedError);
    expect(err).toMatchObject({ code: 'REDIS_NOT_REPLICATED', retriable: true, wanted: 2, acked: 1 });
  });

  it('runs the evaluator service on the cluster: labels and explanations', async () => {
    const topics = await makeTopics(env, 6);
    const prefix = uniqueName('it-rcev').toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 32);
    const out = await collect(testKafka(env), [topics.decisions]);
    let evaluator: RunningService | undefined;
    const customers = Array.from({ length: 24 }, (_, i) => `rc-${i}`);
    try {
      evaluator = await startService('evaluator', {
        KAFKA_BROKERS: env.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
        REDIS_URL: cluster.url,
        REDIS_WAIT_REPLICAS: '1',
        REDIS_KEY_PREFIX: prefix,
        EVALUATOR_GROUP_ID: uniqueName('it-rcev-g'),
        TOPIC_CUSTOMER_EVENTS: topics.customerEvents,
        TOPIC_DECISIONS: topics.decisions,
        TOPIC_DLQ: topics.dlq,
        TOPIC_PARTITIONS: '6',
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN: 'cluster-admin-token-0123456789',
      });
      const now = Date.now();
      await produceEvents(env, topics.customerEvents, customers.map((c, i) => purchaseEvent(c, now - i, 5000)));
      const got = await out.waitForCount(customers.length, 60_000);
      const ds = await decodeDecisions(env, got.map((m) => m.value));
      for (const c of customers) expect(ds.find((d) => d.customerId === c)?.labels).toEqual(expect.arrayContaining(['customer', 'first_time_buyer']));
      // State of the six partitions on all three masters.
      const byMaster = await keysByMaster(prefix);
      for (const keys of byMaster.values()) expect(keys.some((k) => k.includes(':c:'))).toBe(true);
      // Explained through the admin endpoint, whichever partition (and master) holds the customer.
      const res = await fetch(`http://127.0.0.1:${evaluator.port}/admin/customers/rc-7`, { headers: { authorization: 'Bearer cluster-admin-token-0123456789' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { found: boolean; explanation: { features: Record<string, unknown> }; recentDecisions: unknown[] };
      expect(body.explanation.features).toMatchObject({ orders_lifetime: 1 });
      expect(body.recentDecisions).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${evaluator.port}/admin/customers/nobody`, { headers: { authorization: 'Bearer cluster-admin-token-0123456789' } })).status).toBe(404);
      expect(evaluator.output()).not.toMatch(/CROSSSLOT|crashed/i);
    } finally {
      await out.stop();
      await evaluator?.stop();
    }
  }, 180_000);
});
