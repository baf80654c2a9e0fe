/**
 * The evaluator on the real stack: labels assigned and removed for scripted customers,
 * replays change nothing, out-of-order input gives the same final labels, a time-based
 * change happens with no new event, and a crash between the Redis commit and the outbox
 * drain loses and duplicates no decision.
 */
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import type { LabelDecision } from '@labelstream/contracts';
import { applyEvents, decodeState, encodeState, explain, IDS_APART_VERSION, toEngineEvent } from '@labelstream/engine';
import { PartitionKeys } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { collect, connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { clickEvent, decodeDecisions, makeTopics, produceEvents, purchaseEvent, startEvaluator, ticketEvent } from '../support/evaluator-harness';

const RULES = loadRules(
  `
version: "it-evaluator-1"
allowedLateness: 1h
features:
  spend_1h:        { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders_lifetime: { event: purchase, agg: count, window: lifetime }
  clicks_4s:       { event: email_click, agg: count, window: 4s, bucket: 1s }
  last_csat:       { event: support_ticket, agg: last, field: satisfactionScore, window: 1h }
labels:
  high_value:
    description: "high_value (test)"
    category: value
    enter: "spend_1h >= 10000"
    exit: "spend_1h < 8000"
  customer:
    description: "customer (test)"
    category: lifecycle
    when: "orders_lifetime >= 1"
  engaged:
    description: "engaged (test)"
    category: behaviour
    when: "clicks_4s >= 2"
  satisfied:
    description: "satisfied (test)"
    category: satisfaction
    when: "last_csat != null && last_csat >= 4"
  dissatisfied:
    description: "dissatisfied (test)"
    category: satisfaction
    when: "last_csat != null && last_csat <= 2"
groups:
  satisfaction: { exclusive: true, priority: [dissatisfied, satisfied] }
`,
  { source: 'evaluator.itest.ts' },
);

let env: StackEnv;
let redis: Redis;
beforeAll(async () => {
  env = await connectStack();
  redis = new Redis(env.redisUrl);
});
afterAll(() => redis.disconnect());

function changesOf(ds: LabelDecision[], customerId: string): string[] {
  return ds
    .filter((d) => d.customerId === customerId)
    .sort((a, b) => (a.sourcePartition - b.sourcePartition) || a.seq - b.seq)
    .flatMap((d) => d.changes.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}`));
}

async function storedState(prefix: string, partitions: number, customerId: string) {
  for (let p = 0; p < partitions; p++) {
    const raw = await redis.get(new PartitionKeys(prefix, p).customer(customerId));
    if (raw) return { raw, state: decodeState(raw.slice(raw.indexOf('|') + 1)) };
  }
  return undefined;
}

describe('evaluator', () => {
  it('assigns and removes labels, including a time-based removal with no new event', async () => {
    const topics = await makeTopics(env);
    const prefix = uniqueName('it-ev');
    const ev = await startEvaluator({ env, topics, rules: RULES, groupId: uniqueName('it-ev-g'), keyPrefix: prefix });
    const out = await collect(testKafka(env), [topics.decisions]);
    try {
      const now = Date.now();
      await produceEvents(env, topics.customerEvents, [
        purchaseEvent('c-a', now - 2000, 6000),
        purchaseEvent('c-a', now - 1000, 6000), // 12000 ≥ 10000 → high_value
        clickEvent('c-b', now),
        clickEvent('c-b', now + 10), // two clicks in 4 s → engaged, gone ~4-5 s later
        ticketEvent('c-c', now, 5),
        ticketEvent('c-c', now + 1, 1), // exclusive group: dissatisfied replaces satisfied
      ]);
      const msgs = await out.waitForCount(4, 30_000); // c-a: +customer +high_value; c-b: +engaged, then −engaged (timer); c-c: +dissatisfied
      await waitFor('the timer to remove engaged from c-b', async () => {
        const ds = await decodeDecisions(env, out.messages.map((m) => m.value));
        return changesOf(ds, 'c-b').includes('-engaged') ? ds : undefined;
      }, { timeoutMs: 20_000 });
      const ds = await decodeDecisions(env, out.messages.map((m) => m.value));
      expect(msgs.length).toBeGreaterThanOrEqual(4);
      const a = changesOf(ds, 'c-a');
      expect(a).toEqual(expect.arrayContaining(['+customer', '+high_value']));
      expect(a.filter((x) => x === '+high_value')).toHaveLength(1);
      expect(changesOf(ds, 'c-b')).toEqual(['+engaged', '-engaged']);
      const timerDecision = ds.find((d) => d.customerId === 'c-b' && d.changes.some((c) => c.change === 'REMOVED'))!;
      expect(timerDecision.cause.kind).toBe('TIMER');
      expect(timerDecision.changes[0]!.features).toEqual({ clicks_4s: 0 });
      expect(timerDecision.rulesVersion).toBe('it-evaluator-1');
      // c-c ends dissatisfied only (exclusive group), whatever the intermediate steps.
      const last = ds.filter((d) => d.customerId === 'c-c').sort((x, y) => x.seq - y.seq).pop()!;
      expect(last.labels).toContain('dissatisfied');
      expect(last.labels).not.toContain('satisfied');
      expect(last.labelCategories).toMatchObject({ dissatisfied: 'satisfaction' }); // every held label's category
      // Every decision carries the features that decided it.
      for (const d of ds) for (const c of d.changes) expect(Object.keys(c.features).length).toBeGreaterThan(0);
      // Sequence numbers are gap-free per source partition.
      for (const p of new Set(ds.map((d) => d.sourcePartition))) {
        const seqs = ds.filter((d) => d.sourcePartition === p).map((d) => d.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('after an outage, timers wait for the backlog: events from before a due time are applied before it fires', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-ev');
    const groupId = uniqueName('it-ev-g');
    const out = await collect(testKafka(env), [topics.decisions]);
    let ev = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix });
    try {
      const t = Date.now();
      await produceEvents(env, topics.customerEvents, [clickEvent('c-o', t, 'o-1'), clickEvent('c-o', t + 100, 'o-2')]);
      await waitFor('+engaged', async () => changesOf(await decodeDecisions(env, out.messages.map((m) => m.value)), 'c-o').includes('+engaged'), { timeoutMs: 20_000 });
      await ev.stop();
      // While no evaluator runs: two more clicks from before the first two leave the 4 s
      // window (~t + 5 s), so engaged should hold until these leave it too (~t + 8 s).
      // Other customers' events come first, so the backlog takes many slices to apply.
      const others = Array.from({ length: 300 }, (_, i) => purchaseEvent(`c-x${i}`, t + 2000, 100));
      await produceEvents(env, topics.customerEvents, [...others, clickEvent('c-o', t + 3000, 'o-3'), clickEvent('c-o', t + 3200, 'o-4')]);
      // Come back once the stored due time (~t + 5 s) has passed on the wall clock.
      await waitFor('the stored due time to pass on the wall clock', () => Date.now() >= t + 6500, { timeoutMs: 10_000, intervalMs: 50 });
      ev = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix, maxBatchMessages: 5 });
      await waitFor('-engaged', async () => changesOf(await decodeDecisions(env, out.messages.map((m) => m.value)), 'c-o').includes('-engaged'), { timeoutMs: 30_000 });
      // Had the overdue timer fired before the backlog was applied: -engaged at ~t + 5 s,
      // then +engaged again by the backlogged clicks, evaluated at the timer's clock.
      const ds = (await decodeDecisions(env, out.messages.map((m) => m.value))).filter((d) => d.customerId === 'c-o');
      expect(changesOf(ds, 'c-o')).toEqual(['+engaged', '-engaged']);
      const removal = ds.find((d) => d.changes.some((c) => c.change === 'REMOVED'))!;
      expect(removal.cause.kind).toBe('TIMER');
      expect(removal.effectiveAt).toBeGreaterThanOrEqual(t + 7000); // the later clicks' expiry, not the first ones'
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('replayed events change neither state nor decisions; out-of-order input ends in the same labels', async () => {
    const topics = await makeTopics(env);
    const prefix = uniqueName('it-ev');
    // Slices of 3: a customer's events are split across handler calls and commits.
    const groupId = uniqueName('it-ev-g');
    const ev = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix, maxBatchMessages: 3 });
    const out = await collect(testKafka(env), [topics.decisions]);
    /**
     * Everything produced so far applied, committed, published and collected: the group's
     * offsets stand at the end of the input (they are committed only after the slice's
     * decisions are acknowledged), and the collector holds every decision the evaluator sent.
     */
    const settled = async (description: string) => {
      const admin = testKafka(env).admin();
      await admin.connect();
      try {
        await waitFor(description, async () => {
          const ends = await admin.fetchTopicOffsets(topics.customerEvents);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.customerEvents] });
          const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
          if (!ends.every((e) => e.high === '0' || at.get(e.partition) === e.high)) return false;
          const sent = (await ev.metrics.eventsProduced.get()).values.filter((v) => v.labels.topic === topics.decisions).reduce((a, v) => a + v.value, 0);
          return out.messages.length >= sent;
        }, { timeoutMs: 30_000 });
      } finally {
        await admin.disconnect();
      }
    };
    try {
      const t0 = Date.now() - 60_000;
      const script = (c: string) => [
        purchaseEvent(c, t0, 3000, `${c}-1`),
        ticketEvent(c, t0 + 1000, 4, `${c}-2`),
        purchaseEvent(c, t0 + 2000, 4000, `${c}-3`),
        purchaseEvent(c, t0 + 3000, 5000, `${c}-4`),
        ticketEvent(c, t0 + 4000, 2, `${c}-5`),
      ];
      const inOrder = script('c-in');
      const reversed = script('c-rev').reverse();
      await produceEvents(env, topics.customerEvents, [...inOrder, ...reversed]);
      await waitFor('both customers evaluated', async () => (await storedState(prefix, 2, 'c-in')) && (await storedState(prefix, 2, 'c-rev')), { timeoutMs: 30_000 });
      await waitFor('all 10 events applied', () => {
        const s = ev.metrics.eventsConsumed.get();
        return s.then((m) => m.values.reduce((a, v) => a + v.value, 0) >= 10);
      });
      await settled('the 10 events committed and their decisions collected');
      const inState = (await storedState(prefix, 2, 'c-in'))!;
      const revState = (await storedState(prefix, 2, 'c-rev'))!;
      const at = Date.now();
      const exIn = explain(inState.state, RULES, at);
      const exRev = explain(revState.state, RULES, at);
      expect(exRev.features).toEqual(exIn.features);
      expect(exRev.labels.filter((l) => l.held).map((l) => l.label)).toEqual(exIn.labels.filter((l) => l.held).map((l) => l.label));
      expect(exIn.labels.filter((l) => l.held).map((l) => l.label).sort()).toEqual(['customer', 'dissatisfied', 'high_value']);

      const decisionsBefore = out.messages.length;
      const stateBefore = [inState.raw, revState.raw];
      // Replay every event (same eventIds): nothing is counted twice, nothing is decided.
      await produceEvents(env, topics.customerEvents, [...inOrder, ...reversed]);
      await waitFor('the replayed events to be seen as duplicates', async () => {
        const m = await ev.metrics.duplicateEvents.get();
        return (m.values[0]?.value ?? 0) >= 10;
      }, { timeoutMs: 30_000 });
      await settled('the replayed events committed');
      expect([(await storedState(prefix, 2, 'c-in'))!.raw, (await storedState(prefix, 2, 'c-rev'))!.raw]).toEqual(stateBefore);
      expect(out.messages.length).toBe(decisionsBefore);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('reads a layout 2 state (ids inline), moves its ids into the id set, and still knows its events after a restart', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-ev');
    const groupId = uniqueName('it-ev-g');
    const keys = new PartitionKeys(prefix, 0);
    const t = Date.now() - 60_000;
    // What an evaluator before layout 3 left: the state with its dedupe ids inline.
    const old = applyEvents(null, [toEngineEvent(purchaseEvent('c-m', t, 12_000, 'm-1'))], RULES).state;
    const v2 = encodeState(old);
    expect(JSON.parse(v2)).toMatchObject({ v: 2, d: ['m-1', 0] });
    await redis.set(keys.customer('c-m'), `1|${v2}`);
    const out = await collect(testKafka(env), [topics.decisions]);
    let ev = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix });
    try {
      // A replay of the stored event and a new one.
      await produceEvents(env, topics.customerEvents, [purchaseEvent('c-m', t, 12_000, 'm-1'), clickEvent('c-m', t + 1000, 'm-2')]);
      await waitFor('the replay seen as a duplicate and the click applied', async () => {
        const dup = (await ev.metrics.duplicateEvents.get()).values[0]?.value ?? 0;
        return dup >= 1 && (await redis.zscore(keys.ids('c-m'), 'm-2')) !== null;
      }, { timeoutMs: 30_000 });
      const raw = (await redis.get(keys.customer('c-m')))!;
      const stored = JSON.parse(raw.slice(raw.indexOf('|') + 1)) as { v: number; d?: unknown };
      expect(Number(raw.slice(0, raw.indexOf('|')))).toBeGreaterThan(1);
      expect(stored.v).toBe(IDS_APART_VERSION);
      expect(stored.d).toBeUndefined();
      expect(await redis.zrange(keys.ids('c-m'), 0, -1, 'WITHSCORES')).toEqual(['m-1', String(t), 'm-2', String(t + 1000)]);
      // A new evaluator (nothing cached) reads the ids from the set: both replays are duplicates.
      await ev.stop();
      ev = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix });
      await produceEvents(env, topics.customerEvents, [purchaseEvent('c-m', t, 12_000, 'm-1'), clickEvent('c-m', t + 1000, 'm-2')]);
      await waitFor('both replays seen as duplicates', async () => ((await ev.metrics.duplicateEvents.get()).values[0]?.value ?? 0) >= 2, { timeoutMs: 30_000 });
      // Counted once each (a timer may have moved the clock since, so the text may differ).
      const after = (await redis.get(keys.customer('c-m')))!;
      const features = explain(decodeState(after.slice(after.indexOf('|') + 1)), RULES, t + 2000).features;
      expect(features).toMatchObject({ orders_lifetime: 1, spend_1h: 12_000 });
      // The state held customer and high_value already: nothing was decided.
      expect(out.messages).toHaveLength(0);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('a crash between the Redis commit and the outbox drain loses and duplicates no decision', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-ev');
    const groupId = uniqueName('it-ev-g');
    // The first evaluator commits to Redis, then "dies": every send to the decisions topic fails.
    let failedSends = 0;
    const dying = (p: Producer): Producer =>
      new Proxy(p, {
        get(target, prop, receiver) {
          if (prop === 'send') {
            return async () => {
              failedSends++;
              throw Object.assign(new Error('injected: process died before the outbox drain'), { retriable: true });
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    const first = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix, wrapProducer: dying });
    const out = await collect(testKafka(env), [topics.decisions]);
    const now = Date.now();
    await produceEvents(env, topics.customerEvents, [purchaseEvent('c-x', now, 20_000), purchaseEvent('c-y', now, 500), clickEvent('c-z', now - 100_000)]);
    const keys = new PartitionKeys(prefix, 0);
    await waitFor('decisions committed to the Redis outbox', async () => (await redis.xlen(keys.outbox)) >= 2 && failedSends > 0, { timeoutMs: 30_000 });
    await first.stop(); // input offsets were never committed
    const admin = testKafka(env).admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topics.customerEvents] });
    await admin.disconnect();
    expect(committed[0]!.partitions.map((p) => p.offset)).toEqual(['-1']);
    expect(out.messages).toHaveLength(0);

    const second = await startEvaluator({ env, topics, rules: RULES, groupId, keyPrefix: prefix });
    try {
      await out.waitForCount(2, 30_000);
      await waitFor('the outbox to be drained', async () => (await redis.xlen(keys.outbox)) === 0);
      // The events are re-read from the last committed offset and recognised as applied.
      let seen = {};
      await waitFor(
        'the re-read events to be seen as duplicates',
        async () => {
          const consumed = (await second.metrics.eventsConsumed.get()).values.reduce((a, v) => a + v.value, 0);
          const dup = (await second.metrics.duplicateEvents.get()).values[0]?.value ?? 0;
          const late = (await second.metrics.lateEvents.get()).values[0]?.value ?? 0;
          seen = { consumed, dup, late };
          return dup >= 3;
        },
        { timeoutMs: 30_000, lastSeen: () => seen },
      );
      const ds = await decodeDecisions(env, out.messages.map((m) => m.value));
      expect(ds.map((d) => d.seq).sort()).toEqual([1, 2]);
      expect(changesOf(ds, 'c-x').sort()).toEqual(['+customer', '+high_value']);
      expect(changesOf(ds, 'c-y')).toEqual(['+customer']);
      expect(Number(await redis.get(keys.epoch))).toBe(2);
    } finally {
      await out.stop();
      await second.stop();
    }
  });
});
