/** The evaluator's Redis store against a real Redis: fencing, versions, outbox, timers. */
import Redis from 'ioredis';
import { FencedError, PartitionStore, VersionConflictError } from '@labelstream/redis-state';
import { connectStack, uniqueName } from '@labelstream/testkit';

let redis: Redis;
let prefix: string;

beforeAll(async () => {
  const env = await connectStack();
  redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 });
});
beforeEach(() => {
  prefix = uniqueName('it-rs');
});
afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
});
afterAll(() => redis.disconnect());

describe('PartitionStore', () => {
  it('commits states with versions, assigns gap-free sequence numbers and fills the outbox', async () => {
    const store = new PartitionStore(redis, prefix, 3);
    await store.claim();
    const seqs = await store.commit([
      { customerId: 'c-1', expectedVersion: 0, state: 's1', decisions: [{ decision: 'd1', historyEntry: 'h1' }], dueAt: 1000 },
      { customerId: 'c-2', expectedVersion: 0, state: 's2', dueAt: null },
      { customerId: 'c-3', expectedVersion: 0, state: 's3', decisions: [{ decision: 'd3' }], dueAt: 500 },
    ]);
    expect(seqs).toEqual([[1], [], [2]]);
    const loaded = await store.load(['c-1', 'c-2', 'c-9']);
    expect(loaded.get('c-1')).toEqual({ version: 1, state: 's1', dueAt: 1000 });
    expect(loaded.get('c-2')).toEqual({ version: 1, state: 's2', dueAt: null });
    expect(loaded.get('c-9')).toEqual({ version: 0, state: null, dueAt: null });
    expect(await store.pendingOutbox()).toEqual([
      { seq: 1, decision: 'd1' },
      { seq: 2, decision: 'd3' },
    ]);
    expect(await store.dueTimers(999)).toEqual([
      { customerId: 'c-3', dueAt: 500 },
      { customerId: 'c-1', dueAt: 1000 },
    ].filter((t) => t.dueAt <= 999));
    expect(await store.history('c-1')).toEqual(['h1']);

    await store.ack(1);
    expect(await store.pendingOutbox()).toEqual([{ seq: 2, decision: 'd3' }]);
    const next = await store.commit([{ customerId: 'c-1', expectedVersion: 1, state: 's1b', decisions: [{ decision: 'd4' }], dueAt: null }]);
    expect(next).toEqual([[3]]);
    expect(await store.dueTimers(10_000)).toEqual([{ customerId: 'c-3', dueAt: 500 }]);
  });

  it('keeps each customer\'s last decisions, newest first, up to the cap', async () => {
    const store = new PartitionStore(redis, prefix, 2, { historyCap: 3 });
    await store.claim();
    for (let v = 0; v < 5; v++) {
      await store.commit([
        { customerId: 'c-1', expectedVersion: v, state: `s${v}`, decisions: [{ decision: `d${v}`, historyEntry: `["h${v}"]` }], dueAt: null },
        // no decision, no history entry
        { customerId: 'c-2', expectedVersion: v, state: `s${v}`, dueAt: null },
      ]);
      expect(await store.history('c-1')).toEqual(Array.from({ length: Math.min(v + 1, 3) }, (_, i) => `["h${v - i}"]`));
    }
    expect(await store.history('c-2')).toEqual([]);
    // One hash field per customer, not a key each.
    expect(await redis.hlen(store.keys.history)).toBe(1);
    await expect(store.commit([{ customerId: 'c-3', expectedVersion: 0, state: 's', decisions: [{ decision: 'd', historyEntry: 'a\nb' }], dueAt: null }])).rejects.toThrow(/newline/);

    const single = new PartitionStore(redis, prefix, 4, { historyCap: 1 });
    await single.claim();
    for (let v = 0; v < 3; v++) await single.commit([{ customerId: 'c-1', expectedVersion: v, state: 's', decisions: [{ decision: 'd', historyEntry: `h${v}` }], dueAt: null }]);
    expect(await single.history('c-1')).toEqual(['h2']);
  });

  it('commits several decisions of one customer in one call, in order, with one new version', async () => {
    const store = new PartitionStore(redis, prefix, 5, { historyCap: 3 });
    await store.claim();
    await store.commit([{ customerId: 'c-1', expectedVersion: 0, state: 's0', decisions: [{ decision: 'd0', historyEntry: 'h0' }], dueAt: null }]);
    const seqs = await store.commit([
      {
        customerId: 'c-1',
        expectedVersion: 1,
        state: 's3',
        decisions: [
          { decision: 'd1', historyEntry: 'h1' },
          { decision: 'd2' }, // no history line
          { decision: 'd3', historyEntry: 'h3' },
        ],
        dueAt: 42,
      },
      { customerId: 'c-2', expectedVersion: 0, state: 't', decisions: [{ decision: 'e1', historyEntry: 'g1' }], dueAt: null },
    ]);
    expect(seqs).toEqual([[2, 3, 4], [5]]);
    expect((await store.pendingOutbox()).map((e) => e.decision)).toEqual(['d0', 'd1', 'd2', 'd3', 'e1']);
    expect((await store.load(['c-1'])).get('c-1')).toEqual({ version: 2, state: 's3', dueAt: 42 });
    expect(await store.history('c-1')).toEqual(['h3', 'h1', 'h0']);
    expect(await store.dueTimers(100)).toEqual([{ customerId: 'c-1', dueAt: 42 }]);
    // More new lines than the cap: only the newest stay.
    await store.commit([{ customerId: 'c-2', expectedVersion: 1, state: 't2', decisions: ['a', 'b', 'c', 'd'].map((x) => ({ decision: x, historyEntry: x })), dueAt: null }]);
    expect(await store.history('c-2')).toEqual(['d', 'c', 'b']);
  });

  it('keeps dedupe ids apart: adds the new ones, drops those older than the horizon, deletes the set when empty', async () => {
    const store = new PartitionStore(redis, prefix, 2);
    await store.claim();
    // More ids than one ZADD chunk of the script (500).
    const first = Array.from({ length: 1200 }, (_, i) => [`e${i}`, 1000 + i] as const);
    await store.commit([{ customerId: 'c-1', expectedVersion: 0, state: 's1', dueAt: null, ids: { add: first, horizon: 1100 } }]);
    let loaded = (await store.load(['c-1', 'c-2'], { ids: true })).get('c-1')!;
    expect(loaded.ids?.size).toBe(1100); // e100 … e1199
    expect(loaded.ids?.get('e100')).toBe(1100);
    expect(loaded.ids?.has('e99')).toBe(false);
    await store.commit([{ customerId: 'c-1', expectedVersion: 1, state: 's2', dueAt: null, ids: { add: [['x', 5000]], horizon: 2199 } }]);
    loaded = (await store.load(['c-1'], { ids: true })).get('c-1')!;
    expect([...loaded.ids!.entries()]).toEqual([['e1199', 2199], ['x', 5000]]);
    // A commit without ids leaves the set alone; one whose horizon passes everything deletes it.
    await store.commit([{ customerId: 'c-1', expectedVersion: 2, state: 's3', dueAt: null }]);
    expect(await redis.zcard(store.keys.ids('c-1'))).toBe(2);
    await store.commit([{ customerId: 'c-1', expectedVersion: 3, state: 's4', dueAt: null, ids: { add: [], horizon: 9999 } }]);
    expect(await redis.exists(store.keys.ids('c-1'))).toBe(0);
    expect((await store.load(['c-2'], { ids: true })).get('c-2')).toEqual({ version: 0, state: null, dueAt: null, ids: new Map() });
  });

  it('refuses a version conflict without writing anything', async () => {
    const store = new PartitionStore(redis, prefix, 0);
    await store.claim();
    await store.commit([{ customerId: 'c-1', expectedVersion: 0, state: 'a', dueAt: null }]);
    await expect(
      store.commit([
        { customerId: 'c-2', expectedVersion: 0, state: 'b', decisions: [{ decision: 'x' }], dueAt: 5 },
        { customerId: 'c-1', expectedVersion: 0, state: 'stale', dueAt: null },
      ]),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.load(['c-2'])).get('c-2')?.state).toBeNull();
    expect(await store.pendingOutbox()).toEqual([]);
    expect(await redis.get(store.keys.seq)).toBeNull();
  });

  it('fences a stale owner once a new owner claimed the partition', async () => {
    const old = new PartitionStore(redis, prefix, 1);
    await old.claim();
    await old.commit([{ customerId: 'c-1', expectedVersion: 0, state: 'v1', decisions: [{ decision: 'd1' }], dueAt: null }]);
    const fresh = new PartitionStore(redis, prefix, 1);
    await fresh.claim();
    await expect(old.commit([{ customerId: 'c-1', expectedVersion: 1, state: 'zombie', decisions: [{ decision: 'dz' }], dueAt: null }])).rejects.toBeInstanceOf(FencedError);
    // The new owner sees the outbox the old one left and continues the sequence.
    expect(await fresh.pendingOutbox()).toEqual([{ seq: 1, decision: 'd1' }]);
    expect(await fresh.commit([{ customerId: 'c-1', expectedVersion: 1, state: 'v2', decisions: [{ decision: 'd2' }], dueAt: null }])).toEqual([[2]]);
    expect((await fresh.load(['c-1'])).get('c-1')).toEqual({ version: 2, state: 'v2', dueAt: null });
  });

  it('records the input offset a commit has applied up to, atomically with the states, and never for a stale owner', async () => {
    const store = new PartitionStore(redis, prefix, 6);
    await store.claim();
    expect(await store.appliedOffset()).toBeNull();
    await store.commit([{ customerId: 'c-1', expectedVersion: 0, state: 's1', decisions: [{ decision: 'd1' }], ids: { add: [['e1', 10]], horizon: 0 }, dueAt: 5 }], '42');
    expect(await store.appliedOffset()).toBe('42');
    // Without one (timers, sweeps, backfills): left as it was; the items' own arguments unaffected.
    await store.commit([{ customerId: 'c-1', expectedVersion: 1, state: 's2', dueAt: null }]);
    expect(await store.appliedOffset()).toBe('42');
    expect((await store.load(['c-1'], { ids: true })).get('c-1')).toEqual({ version: 2, state: 's2', dueAt: null, ids: new Map([['e1', 10]]) });
    // A version conflict or a stale owner writes nothing, the offset included.
    await expect(store.commit([{ customerId: 'c-1', expectedVersion: 1, state: 'x', dueAt: null }], '50')).rejects.toBeInstanceOf(VersionConflictError);
    const fresh = new PartitionStore(redis, prefix, 6);
    await fresh.claim();
    await expect(store.commit([{ customerId: 'c-1', expectedVersion: 2, state: 'x', dueAt: null }], '60')).rejects.toBeInstanceOf(FencedError);
    expect(await fresh.appliedOffset()).toBe('42');
    expect(new Set([store.keys.applied, store.keys.epoch].map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1))).size).toBe(1);
  });

  it('keeps every key of a partition in one cluster slot', async () => {
    const store = new PartitionStore(redis, prefix, 7);
    const keys = [store.keys.epoch, store.keys.seq, store.keys.outbox, store.keys.timers, store.keys.customer('c-1'), store.keys.ids('c-1'), store.keys.history, store.keys.population];
    const slots = await Promise.all(keys.map((k) => redis.call('CLUSTER', 'KEYSLOT', k).catch(() => null)));
    if (slots.every((s) => s === null)) {
      // Not a cluster-enabled server: check the hash tags directly.
      for (const k of keys) expect(k).toContain(`{p7}`);
    } else {
      expect(new Set(slots).size).toBe(1);
    }
  });

  it('moves the population counters with the commit, and only when the commit succeeds', async () => {
    const store = new PartitionStore(redis, prefix, 2);
    await store.claim();
    expect(store.populationCurrent).toBe(false); // nothing yet: the owner counts (an empty partition: nothing)
    expect(await store.rebuildPopulation(() => [])).toBe(0);
    await store.commit([
      { customerId: 'c-1', expectedVersion: 0, state: 's', dueAt: null, population: new Map([['~none', 1]]) },
      { customerId: 'c-2', expectedVersion: 0, state: 's', decisions: [{ decision: 'd' }], dueAt: null, ids: { add: [['e1', 5]], horizon: 0 }, population: new Map([['vip', 1], ['engaged', 1]]) },
    ]);
    await store.commit([{ customerId: 'c-2', expectedVersion: 1, state: 's', dueAt: null, population: new Map([['engaged', -1], ['churn', 0]]) }]);
    expect(await store.population()).toEqual({ labels: new Map([['vip', 1], ['engaged', 0]]), none: 1 });
    // A conflicting commit moves nothing.
    await expect(store.commit([{ customerId: 'c-1', expectedVersion: 0, state: 's', dueAt: null, population: new Map([['vip', 5]]) }])).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.population()).labels.get('vip')).toBe(1);
    // Ids and decisions still land where they did before the counters.
    expect(await store.pendingOutbox()).toEqual([{ seq: 1, decision: 'd' }]);
    expect(await redis.zrange(store.keys.ids('c-2'), 0, -1)).toEqual(['e1']);
  });

  it('hands the counters to the next owner, and rebuilds them when an owner did not keep them', async () => {
    const states = new Map([['c-1', 'vip,engaged'], ['c-2', 'vip'], ['c-3', '']]);
    const labelsOf = (raw: string) => raw.split(',').filter(Boolean);
    const first = new PartitionStore(redis, prefix, 4);
    await first.claim();
    await first.rebuildPopulation(labelsOf);
    for (const [c, st] of states) {
      const held = labelsOf(st);
      await first.commit([{ customerId: c, expectedVersion: 0, state: st, dueAt: null, population: new Map(held.length ? held.map((l) => [l, 1]) : [['~none', 1]]) }]);
    }
    const second = new PartitionStore(redis, prefix, 4);
    await second.claim();
    expect(second.populationCurrent).toBe(true);
    // A version without the counters claims it and changes a state: the counts are stale.
    await redis.incr(second.keys.epoch);
    await redis.set(second.keys.customer('c-3'), '2|engaged');
    const third = new PartitionStore(redis, prefix, 4);
    await third.claim();
    expect(third.populationCurrent).toBe(false);
    // The census scans in pages smaller than the partition, so several SCAN rounds are needed.
    expect(await third.rebuildPopulation(labelsOf, 1)).toBe(3);
    expect(await third.population()).toEqual({ labels: new Map([['vip', 2], ['engaged', 2]]), none: 0 });
    const fourth = new PartitionStore(redis, prefix, 4);
    await fourth.claim();
    expect(fourth.populationCurrent).toBe(true);
    // A fenced owner's rebuild writes nothing.
    await expect(third.rebuildPopulation(() => ['x'])).rejects.toBeInstanceOf(FencedError);
    expect((await fourth.population()).labels.get('x')).toBeUndefined();
  });
});
