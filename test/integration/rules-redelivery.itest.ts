/**
 * A rules switch meets input delivered again, on the real stack (README "Changing rules"):
 * an evaluator applies a stream and stops; its group's committed offsets are taken back to
 * the start of the input, as a crash between the state commit and the offset commit leaves
 * them, so the next owner reads every event again — events the committed states applied
 * under the old rules, before the switch point. Each copy is a duplicate and decides
 * nothing: every change the new rules imply comes from the sweep, with cause RULES_CHANGED
 * and the new version, and no label change names a re-delivered event. The switch point is
 * the offset the committed states had applied up to, whichever the owner met first: the
 * switch (a deploy before the stop: the copies are read under the new rules, always) or the
 * copies (a deploy after the rewind: the restarted owner switches at its first timer run,
 * before, between or after its batches of copies — a race; with one copy per batch and
 * thousands of copies it usually lands among them, where a switch point taken from the
 * owner's last batch alone would fall before records applied under the old rules).
 * The sweep is slow while copies arrive (one customer a second), then a third owner
 * finishes it fast (its SCAN walks the whole shared Redis).
 */
import type { Admin } from 'kafkajs';
import Redis from 'ioredis';
import type { CustomerEvent, LabelDecision } from '@labelstream/contracts';
import { decodeState } from '@labelstream/engine';
import { PartitionKeys, RulesChannel } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { collect, connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { clickEvent, decodeDecisions, describeChanges, makeTopics, produceEvents, purchaseEvent, startEvaluator, type EvaluatorTopics } from '../support/evaluator-harness';

const V1 = `version: "it-rd-v1"
features:
  spend_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders: { event: purchase, agg: count }
labels:
  high_value: { category: value, description: d, when: "spend_1h >= 10000" }
  repeat: { category: behaviour, description: d, when: "orders >= 2" }
`;
// Only a threshold changes: the features are the same (no backfill), so the state every
// customer holds decides at once — 6000 of spend is high value under v2, not under v1.
const V2 = V1.replace('it-rd-v1', 'it-rd-v2').replace('spend_1h >= 10000', 'spend_1h >= 5000');

const PARTITIONS = [0, 1];
/** Twelve customers, two purchases each first: the even ones spend 6000 (high value under v2 only), the odd ones 1000. */
const CUSTOMERS = Array.from({ length: 12 }, (_, i) => `rd-${String(i).padStart(2, '0')}`);
const RAISED = CUSTOMERS.filter((_, i) => i % 2 === 0);

let env: StackEnv;
let redis: Redis;
let admin: Admin;
beforeAll(async () => {
  env = await connectStack();
  redis = new Redis(env.redisUrl);
  admin = testKafka(env).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  redis.disconnect();
});

type Evaluator = Awaited<ReturnType<typeof startEvaluator>>;

/** The evaluator, with a `stop` that stops it once (the test may stop it before its clean-up does). */
function stopsOnce(ev: Evaluator): Evaluator {
  let stopping: Promise<void> | undefined;
  return { ...ev, stop: () => (stopping ??= ev.stop()) };
}

/** The input's end offset per partition. */
async function endOffsets(topic: string): Promise<Map<number, string>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high] as const));
}

/** The offset per partition the committed states of `prefix` record they applied up to. */
async function appliedOffsets(prefix: string): Promise<Map<number, string | null>> {
  return new Map(await Promise.all(PARTITIONS.map(async (p) => [p, await redis.get(new PartitionKeys(prefix, p).applied)] as const)));
}

/** Takes the group's committed offsets back to the start of the input (the group must be empty: its member stopped). */
async function rewind(groupId: string, topic: string): Promise<void> {
  await waitFor('the group empty', async () => ((await admin.describeGroups([groupId])).groups[0]?.state === 'Empty' ? true : undefined), { timeoutMs: 30_000 });
  await admin.setOffsets({ groupId, topic, partitions: PARTITIONS.map((partition) => ({ partition, offset: '0' })) });
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  expect(committed!.partitions.map((p) => p.offset)).toEqual(PARTITIONS.map(() => '0'));
}

/**
 * A stream applied under v1 by a first evaluator (which `stop`s it when the test says):
 * every customer +repeat; the states record every input offset applied. `clickRounds`
 * clicks per customer follow the purchases.
 */
async function appliedUnderV1(name: string, clickRounds: number) {
  const topics: EvaluatorTopics = await makeTopics(env, PARTITIONS.length);
  const prefix = uniqueName(`it-${name}`);
  const groupId = uniqueName(`it-${name}-g`);
  const out = await collect(testKafka(env), [topics.decisions]);
  const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
  // The sweep is slow (a customer a second, and its SCAN walks the whole shared Redis): the
  // customers are still to sweep when their events arrive again.
  const first = stopsOnce(await startEvaluator({ env, topics, rules: loadRules(V1), groupId, keyPrefix: prefix, liveRules: true, sweepRate: 1 }));
  const t = Date.now();
  // Then clicks (no rule reads them) of every customer in turn: copies of a customer's events
  // keep coming all through the input read again.
  const events: CustomerEvent[] = [
    ...CUSTOMERS.flatMap((c, i) => [purchaseEvent(c, t, i % 2 === 0 ? 3000 : 500), purchaseEvent(c, t + 1, i % 2 === 0 ? 3000 : 500)]),
    ...Array.from({ length: clickRounds }, (_, r) => CUSTOMERS.map((c) => clickEvent(c, t + 2 + r))).flat(),
  ];
  await produceEvents(env, topics.customerEvents, events);
  await waitFor('the v1 decisions', async () => ((await decisions()).length >= CUSTOMERS.length ? true : undefined), { timeoutMs: 30_000 });
  const v1 = await decisions();
  expect(v1.map(describeChanges).sort()).toEqual(CUSTOMERS.map((c) => `${c} EVENT it-rd-v1 +repeat(enter)`));
  // Every record applied: the states record the input's end (what the switch point must be).
  const end = await endOffsets(topics.customerEvents);
  await waitFor('every offset applied', async () => {
    const applied = await appliedOffsets(prefix);
    return PARTITIONS.every((p) => applied.get(p) === end.get(p)) ? true : undefined;
  });
  return { topics, prefix, groupId, out, decisions, first, events, end, v1Count: v1.length };
}

/**
 * What the second evaluator must leave once it has read every copy, and a third (fast
 * sweep) has finished its sweep: the switch point at the applied offsets, exactly the
 * sweep's changes after the v1 decisions, none naming a re-delivered event, every customer
 * decided under v2.
 */
async function expectSweptNotRedecided(run: Awaited<ReturnType<typeof appliedUnderV1>>, second: Evaluator): Promise<void> {
  const { topics, prefix, groupId, out, decisions, events, end, v1Count } = run;
  const channel = new RulesChannel(redis, prefix);
  await waitFor('both partitions switched', async () => ((await Promise.all(PARTITIONS.map((p) => channel.partition(p)))).every((p) => p.seq === 1) ? true : undefined), { timeoutMs: 30_000 });
  // Every copy read again, each a duplicate (none applied twice).
  await waitFor('every event read again', async () => {
    const text = await second.metrics.registry.getSingleMetricAsString('labelstream_duplicate_events_total');
    return new RegExp(`labelstream_duplicate_events_total\\{service="evaluator"\\} ${events.length}$`, 'm').test(text) ? true : undefined;
  }, { timeoutMs: 30_000 });
  await second.stop();
  // The rest of the sweep, fast (its SCAN walks the whole shared Redis): by a third owner, which reads nothing again.
  const third = await startEvaluator({ env, topics, rules: loadRules(V1), groupId, keyPrefix: prefix, liveRules: true, sweepRate: 5000 });
  try {
    await waitFor('both partitions swept', async () => ((await Promise.all(PARTITIONS.map((p) => channel.partition(p)))).every((p) => p.cursor === null) ? true : undefined), { timeoutMs: 60_000 });
  } finally {
    await third.stop();
  }
  for (const p of PARTITIONS) expect((await channel.partition(p)).point?.nextOffset).toBe(end.get(p));
  // Everything published is in (the decisions topic's end), then exactly the sweep's changes.
  const published = [...(await endOffsets(topics.decisions)).values()].reduce((n, high) => n + Number(high), 0);
  await out.waitForCount(published);
  const all = await decisions();
  // A decision the stopped owner could not acknowledge is sent again under the same sequence number.
  const after = [...new Map(all.slice(v1Count).map((d) => [`${d.customerId}/${d.seq}`, d] as const)).values()];
  expect(after.map(describeChanges).sort()).toEqual(RAISED.map((c) => `${c} RULES_CHANGED it-rd-v2 +high_value(enter)`));
  const ids = new Set(events.map((e) => e.eventId));
  expect(all.filter((d) => ids.has(d.cause.eventId ?? '') && d.rulesVersion === 'it-rd-v2').map(describeChanges)).toEqual([]);
  for (const c of CUSTOMERS) {
    const raw = (await Promise.all(PARTITIONS.map((p) => redis.get(new PartitionKeys(prefix, p).customer(c))))).find(Boolean)!;
    expect([c, decodeState(raw.slice(raw.indexOf('|') + 1)).r]).toEqual([c, 'it-rd-v2']);
  }
}

describe('rules switch and re-delivered input', () => {
  it('switched before the stop: the next owner reads the applied events again under the new rules, and they decide nothing', async () => {
    const run = await appliedUnderV1('rd1', 40);
    let second: Evaluator | undefined;
    try {
      const channel = new RulesChannel(redis, run.prefix);
      await channel.publish(V2, { version: 'it-rd-v2', hash: loadRules(V2).hash }, 0, Date.now());
      await waitFor('both partitions switched', async () => ((await Promise.all(PARTITIONS.map((p) => channel.partition(p)))).every((p) => p.seq === 1) ? true : undefined), { timeoutMs: 30_000, intervalMs: 20 });
      await run.first.stop();
      const swept = (await Promise.all(PARTITIONS.map((p) => channel.partition(p)))).reduce((n, p) => n + p.swept, 0);
      expect(swept).toBeLessThan(CUSTOMERS.length); // customers left to sweep: their copies arrive first
      // Stopped with every offset committed; taken back as a crash before the commit would have left them.
      const [committed] = await admin.fetchOffsets({ groupId: run.groupId, topics: [run.topics.customerEvents] });
      expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(PARTITIONS.map((p) => [p, run.end.get(p)]));
      await rewind(run.groupId, run.topics.customerEvents);
      second = stopsOnce(await startEvaluator({ env, topics: run.topics, rules: loadRules(V1), groupId: run.groupId, keyPrefix: run.prefix, liveRules: true, sweepRate: 1 }));
      await expectSweptNotRedecided(run, second);
    } finally {
      await run.out.stop();
      await run.first.stop();
      await second?.stop();
    }
  });

  it('deployed after the rewind: the switch point is the applied offset whenever the owner switches among its copies', async () => {
    const run = await appliedUnderV1('rd2', 1200);
    let second: Evaluator | undefined;
    try {
      await run.first.stop();
      await rewind(run.groupId, run.topics.customerEvents);
      await new RulesChannel(redis, run.prefix).publish(V2, { version: 'it-rd-v2', hash: loadRules(V2).hash }, 0, Date.now());
      // One copy per batch: the switch comes between two of them, or before, or after.
      second = stopsOnce(await startEvaluator({ env, topics: run.topics, rules: loadRules(V1), groupId: run.groupId, keyPrefix: run.prefix, liveRules: true, sweepRate: 1, maxBatchMessages: 1 }));
      await expectSweptNotRedecided(run, second);
    } finally {
      await run.out.stop();
      await run.first.stop();
      await second?.stop();
    }
  });
});
