/**
 * Changing the rules live, on the real stack (README "Changing rules"): a stream runs under
 * v1; `labelstream rules deploy` publishes v2, which changes a threshold, adds a label and
 * removes one; every partition switches once and its sweep re-evaluates every customer —
 * the exact label changes expected, each with cause RULES_CHANGED and version v2, and none
 * spurious; live events after the switch are decided under v2. Bad input: an invalid file
 * and a racing deploy are refused with nothing changed. Backfill: a redefined filter is
 * filled from the input's history before the sweep decides (no spurious removal, no hold
 * needed); where the history was cut (records deleted) a new feature warms from the
 * earliest retained event; a re-run backfill replaces what the key held. The dry run
 * (`rules diff`) simulates that backfill from the same history: it predicts exactly the
 * changes the deploy then makes and the warm-up it records, where counting the redefined
 * feature as empty (`--no-backfill`) predicts spurious removals; without Kafka it fails.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import type { LabelDecision } from '@labelstream/contracts';
import { decodeState, encodeState } from '@labelstream/engine';
import { PartitionKeys, RulesChannel, RulesConflictError } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { collect, connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { clickEvent, decodeDecisions, describeChanges, makeTopics, produceEvents, purchaseEvent, startEvaluator } from '../support/evaluator-harness';
import { explainCustomer } from '../../services/evaluator/src/explain';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');

const V1 = `version: "it-rules-v1"
features:
  spend_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders: { event: purchase, agg: count }
labels:
  high_value: { category: value, description: d, when: "spend_1h >= 10000" }
  repeat: { category: behaviour, description: d, when: "orders >= 2" }
  legacy: { category: custom, description: d, when: "orders >= 1" }
  big_eur: { category: value, description: d, when: "eur_1h >= 15000" }
`;
// threshold 10000 → 5000; loyal added; legacy removed; engaged added, on a new feature;
// eur_1h's filter changes (a new definition: a new storage key). Both are backfilled from the
// input's history, which is complete here (nothing deleted): neither warms up.
const V2 = V1.replace('it-rules-v1', 'it-rules-v2')
  .replace('eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }', `eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h, where: "event.currency == 'EUR'" }`)
  .replace('when: "eur_1h >= 15000" }', 'when: "eur_1h >= 15000", whileWarming: hold }')
  .replace('spend_1h >= 10000', 'spend_1h >= 5000')
  .replace('orders: { event: purchase, agg: count }', 'orders: { event: purchase, agg: count }\n  clicks_1h: { event: email_click, agg: count, window: 1h }')
  .replace('legacy: { category: custom, description: d, when: "orders >= 1" }', 'loyal: { category: behaviour, description: d, when: "orders >= 3" }\n  engaged: { category: behaviour, description: d, when: "clicks_1h >= 1" }');

const B1 = `version: "it-bf-v1"
features:
  eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders: { event: purchase, agg: count }
labels:
  big_eur: { category: value, description: d, when: "eur_1h >= 15000" }
  repeat: { category: behaviour, description: d, when: "orders >= 2" }
`;
// The filter changes, with no whileWarming: hold — the labels reading it decide at once, on backfilled values.
const B2 = B1.replace('it-bf-v1', 'it-bf-v2').replace('window: 1h }', `window: 1h, where: "event.currency == 'EUR'" }`);

let env: StackEnv;
let redis: Redis;
let dir: string;
beforeAll(async () => {
  env = await connectStack();
  redis = new Redis(env.redisUrl);
  dir = mkdtempSync(join(tmpdir(), 'ls-rules-'));
});
afterAll(() => redis.disconnect());

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, 'rules', ...args, '--redis', env.redisUrl], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The dry run's Kafka options: the stack's brokers and registry, the test's input topic. */
function kafkaArgs(topic: string): string[] {
  return ['--brokers', env.kafkaBrokers.join(','), '--registry', env.schemaRegistryUrl, '--topic', topic];
}

/** The part of `rules diff --json` these tests read. */
interface DiffJson {
  backfill: string;
  customers: { customers: number; changed: number; unreadable: number; labels: Record<string, { enter: number; leave: number; enterExamples: string[]; leaveExamples: string[] }> };
  warmingUp: Array<{ feature: string; history: string; fullFrom: string | null; partitions?: Array<{ partition: number; reachedBack: string | null; whole: boolean; warmsUntil: string | null }> }>;
}

type LabelMoves = Record<string, { enter: string[]; leave: string[] }>;

/** Per label, the customers a dry run says would enter and leave (whole when each count is within its examples). */
function predicted(report: DiffJson): LabelMoves {
  const out: LabelMoves = {};
  for (const [label, d] of Object.entries(report.customers.labels)) {
    expect([d.enterExamples.length, d.leaveExamples.length]).toEqual([d.enter, d.leave]);
    out[label] = { enter: [...d.enterExamples].sort(), leave: [...d.leaveExamples].sort() };
  }
  return out;
}

/** Per label, the customers that decisions made enter and leave. */
function moved(decisions: LabelDecision[]): LabelMoves {
  const out: LabelMoves = {};
  for (const d of decisions)
    for (const c of d.changes) {
      const m = (out[c.label] ??= { enter: [], leave: [] });
      (c.change === 'ASSIGNED' ? m.enter : m.leave).push(d.customerId);
    }
  for (const m of Object.values(out)) {
    m.enter.sort();
    m.leave.sort();
  }
  return out;
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('rules rollout', () => {
  it('switches every partition once, re-evaluates every customer under the new rules, and refuses bad deploys', async () => {
    const topics = await makeTopics(env, 2);
    const prefix = uniqueName('it-rr');
    const ev = await startEvaluator({ env, topics, rules: loadRules(V1), groupId: uniqueName('it-rr-g'), keyPrefix: prefix, liveRules: true });
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    try {
      const t = Date.now();
      await produceEvents(env, topics.customerEvents, [
        purchaseEvent('c-a', t, 6000),
        purchaseEvent('c-b', t, 1000),
        purchaseEvent('c-b', t + 1, 1000),
        purchaseEvent('c-b', t + 2, 1000),
        purchaseEvent('c-c', t, 20000),
        purchaseEvent('c-c', t + 1, 20000),
        purchaseEvent('c-d', t, 1000),
      ]);
      // v1: c-a +legacy; c-b +legacy, +repeat; c-c +legacy, +high_value, +repeat, +big_eur; c-d +legacy
      await waitFor('the v1 decisions', async () => {
        const ds = await decisions();
        const labels = new Map(ds.map((d) => [d.customerId, d.labels.join(',')]));
        return labels.get('c-b') === 'repeat,legacy' && labels.get('c-c') === 'high_value,repeat,legacy,big_eur' && labels.has('c-a') && labels.has('c-d') ? ds : undefined;
      }, { timeoutMs: 30_000 });
      const v1Count = (await decisions()).length;
      expect((await decisions()).every((d) => d.rulesVersion === 'it-rules-v1')).toBe(true);
      const channel = new RulesChannel(redis, prefix);

      // Bad input: an invalid file is refused with its reasons, and nothing is published.
      const bad = await cli(['deploy', file('bad.yaml', V2.replace('orders >= 3', 'orderz >= 3')), '--prefix', prefix]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/INVALID, nothing changed/);
      expect(bad.stderr).toMatch(/orderz/);
      expect(await channel.current()).toBeNull();

      // The dry run: read-only, against the rules in force (the evaluators' file: nothing published yet) and the live states.
      const dry = await cli(['diff', file('v2-dry.yaml', V2), '--prefix', prefix, '--current', file('v1.yaml', V1), '--json', '--max-changed', '3', ...kafkaArgs(topics.customerEvents)]);
      expect(dry.code).toBe(4); // 4 customers would change, more than --max-changed allows
      const report = JSON.parse(dry.stdout) as { customers: { customers: number; changed: number; labels: Record<string, { enter: number; leave: number; enterExamples: string[]; leaveExamples: string[] }> }; rules: { labelsAdded: string[]; labelsRemoved: string[]; labelsChanged: string[]; features: unknown[] } };
      expect(report.rules).toMatchObject({ labelsAdded: ['loyal', 'engaged'], labelsRemoved: ['legacy'], labelsChanged: ['high_value', 'big_eur'] });
      expect(report.rules.features).toEqual([
        { name: 'eur_1h', change: 'redefined', historyMs: 3_600_000, history: '1h', readBy: ['big_eur'] },
        { name: 'clicks_1h', change: 'added', historyMs: 3_600_000, history: '1h', readBy: ['engaged'] },
      ]);
      expect(report.customers).toMatchObject({ customers: 4, changed: 4 });
      expect(report.customers.labels.high_value).toEqual({ enter: 1, leave: 0, enterExamples: ['c-a'], leaveExamples: [] });
      expect(report.customers.labels.loyal).toEqual({ enter: 1, leave: 0, enterExamples: ['c-b'], leaveExamples: [] });
      expect(report.customers.labels.legacy).toMatchObject({ enter: 0, leave: 4 });
      // Both new features backfilled from the input's complete history (nothing deleted): whole at the switch.
      expect((JSON.parse(dry.stdout) as DiffJson).warmingUp.map((w) => [w.feature, w.partitions])).toEqual(
        ['eur_1h', 'clicks_1h'].map((f) => [f, [0, 1].map((partition) => ({ partition, reachedBack: null, whole: true, warmsUntil: null }))]),
      );
      expect(await channel.current()).toBeNull();
      expect((await decisions()).length).toBe(v1Count);

      // The deploy.
      const ok = await cli(['deploy', file('v2.yaml', V2), '--prefix', prefix]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/published rules it-rules-v2 as sequence 1/);

      // A second deploy that read sequence 0 (racing the first) is refused whole.
      const race = await cli(['deploy', file('v3.yaml', V2.replace('it-rules-v2', 'it-rules-v3').replace('>= 5000', '>= 4000')), '--prefix', prefix, '--expect-seq', '0']);
      expect(race.code).toBe(3);
      expect(race.stderr).toMatch(/another deploy published rules sequence 1/);
      expect((await channel.current())!.version).toBe('it-rules-v2');
      // Two deploys at the same instant (on a channel of their own): exactly one wins, whole.
      const raceChannel = new RulesChannel(redis, `${prefix}-race`);
      const both = await Promise.allSettled([
        raceChannel.publish('text a', { version: 'race-a', hash: 'a' }, 0, Date.now()),
        raceChannel.publish('text b', { version: 'race-b', hash: 'b' }, 0, Date.now()),
      ]);
      expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(RulesConflictError);
      const won = (await raceChannel.current())!;
      expect(await raceChannel.text(1)).toBe(won.version === 'race-a' ? 'text a' : 'text b');
      expect(await raceChannel.log()).toHaveLength(1);

      // Every partition switches and sweeps; the sweep's changes are exactly these.
      await waitFor('both partitions at sequence 1 and swept', async () => {
        const ps = await Promise.all([0, 1].map((p) => channel.partition(p)));
        return ps.every((p) => p.seq === 1 && p.cursor === null) ? ps : undefined;
      }, { timeoutMs: 30_000 });
      // Each switch records where its partition stood (what the fault run's oracle places the switch by).
      const points = await Promise.all([0, 1].map(async (p) => (await channel.partition(p)).point));
      expect(points.every((pt) => pt !== null)).toBe(true);
      expect(points.some((pt) => /^\d+$/.test(pt?.nextOffset ?? ''))).toBe(true);
      await waitFor('the sweep decisions', async () => ((await decisions()).length >= v1Count + 4 ? true : undefined), { timeoutMs: 30_000 });

      // Live traffic after the switch is decided under v2.
      await produceEvents(env, topics.customerEvents, [purchaseEvent('c-d', t + 5, 5000), purchaseEvent('c-e', t + 5, 5000)]);
      await waitFor('the live v2 decisions', async () => ((await decisions()).length >= v1Count + 6 ? true : undefined), { timeoutMs: 30_000 });

      const after = (await decisions()).slice(v1Count);
      const byCustomer = (list: LabelDecision[]) => list.map(describeChanges).sort();
      // Exactly these: one sweep decision per customer whose labels change, the live ones, nothing twice.
      expect(byCustomer(after)).toEqual([
        'c-a RULES_CHANGED it-rules-v2 -legacy(rules-changed) +high_value(enter)',
        'c-b RULES_CHANGED it-rules-v2 -legacy(rules-changed) +loyal(enter)',
        'c-c RULES_CHANGED it-rules-v2 -legacy(rules-changed)',
        'c-d EVENT it-rules-v2 +high_value(enter) +repeat(enter)',
        'c-d RULES_CHANGED it-rules-v2 -legacy(rules-changed)',
        'c-e EVENT it-rules-v2 +high_value(enter)',
      ]);
      // The sweep's decisions name the switch time as their cause time.
      for (const d of after.filter((x) => x.cause.kind === 'RULES_CHANGED')) expect(d.cause.eventOccurredAt).toBeGreaterThanOrEqual(t);
      // Every stored customer now names the version it was decided under.
      for (const c of ['c-a', 'c-b', 'c-c', 'c-d', 'c-e']) {
        const raw = (await Promise.all([0, 1].map((p) => redis.get(new PartitionKeys(prefix, p).customer(c))))).find(Boolean)!;
        expect(decodeState(raw.slice(raw.indexOf('|') + 1)).r).toBe('it-rules-v2');
      }

      // explain evaluates with the rules in force and names the version each held label was decided under.
      const why = await explainCustomer(redis, prefix, 2, ev.evaluator.rulesOf, 'c-b', Date.now());
      if (!why.found) throw new Error('c-b not found');
      expect(why.explanation.rulesVersion).toBe('it-rules-v2');
      expect(why.explanation.labels.filter((l) => l.held).map((l) => `${l.label}@${l.decidedUnder}`)).toEqual(['repeat@it-rules-v2', 'loyal@it-rules-v2']);
      // Backfilled from complete history: whole at once, nothing warms.
      expect(why.warmingUp).toEqual([]);
      expect((await channel.partition(why.partition)).switchedAt!).toBeGreaterThanOrEqual(t);
      expect(why.recentDecisions[0]).toMatchObject({ cause: 'rules changed', changes: ['-legacy (rules-changed)', '+loyal'], rules: 'it-rules-v2' });

      // big_eur stays with c-c on its redefined feature's backfilled value (both purchases in EUR): no removal above.
      const cc = await explainCustomer(redis, prefix, 2, ev.evaluator.rulesOf, 'c-c', Date.now());
      if (!cc.found) throw new Error('c-c not found');
      expect(cc.explanation.labels.find((l) => l.label === 'big_eur')).toMatchObject({ held: true, holds: true, change: null, warmingUntil: null, decidedUnder: 'it-rules-v2' });
      expect(cc.explanation.features.eur_1h).toBe(40000);

      // Status shows the rollout done; /readyz details name the version per partition.
      const status = await cli(['status', '--prefix', prefix, '--json']);
      expect(status.code).toBe(0);
      const s = JSON.parse(status.stdout) as { published: { seq: number; version: string }; done: number; partitions: Array<{ partition: number; seq: number; swept: number }> };
      expect(s.published).toMatchObject({ seq: 1, version: 'it-rules-v2' });
      expect(s.done).toBe(2);
      expect(s.partitions.map((p) => p.seq)).toEqual([1, 1]);
      expect(ev.evaluator.rulesStatus().partitions).toEqual({ 0: { seq: 1, version: 'it-rules-v2', sweeping: false }, 1: { seq: 1, version: 'it-rules-v2', sweeping: false } });
      const metrics = await ev.metrics.registry.getSingleMetricAsString('labelstream_rules_partition_seq');
      expect(metrics).toMatch(/labelstream_rules_partition_seq\{partition="0",service="evaluator"\} 1/);
      const warm = await ev.metrics.registry.getSingleMetricAsString('labelstream_rules_feature_warm_until_seconds');
      expect(warm).not.toMatch(/feature=/);
      expect(await ev.metrics.registry.getSingleMetricAsString('labelstream_rules_backfill_events_total')).toMatch(/labelstream_rules_backfill_events_total\{service="evaluator"\} 7/);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('a customer whose event comes before the sweep is re-checked first: what the new rules change is RULES_CHANGED, the event only its own', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-rr-ft');
    // One customer per second: the sweep is far behind the clicks that follow the switch.
    const ev = await startEvaluator({ env, topics, rules: loadRules(V1), groupId: uniqueName('it-rr-ft-g'), keyPrefix: prefix, liveRules: true, sweepRate: 1 });
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    const ids = Array.from({ length: 20 }, (_, i) => `ft-${String(i).padStart(2, '0')}`);
    try {
      const t = Date.now();
      // 60.00 each: legacy under v1; under v2 also high_value (threshold 50.00), legacy gone.
      await produceEvents(env, topics.customerEvents, ids.map((c) => purchaseEvent(c, t, 6000)));
      await waitFor('the v1 decisions', async () => ((await decisions()).length >= ids.length ? true : undefined), { timeoutMs: 30_000 });
      const v1Count = (await decisions()).length;
      const channel = new RulesChannel(redis, prefix);
      await channel.publish(V2, { version: 'it-rules-v2', hash: loadRules(V2).hash }, 0, Date.now());
      await waitFor('switched', async () => ((await channel.partition(0)).seq === 1 ? true : undefined), { timeoutMs: 30_000 });
      // Each customer clicks (engaged under v2), most of them before the sweep reaches them.
      await produceEvents(env, topics.customerEvents, ids.map((c) => clickEvent(c, t + 1000)));
      await waitFor('every customer re-checked and its click decided', async () => ((await decisions()).length >= v1Count + 2 * ids.length ? true : undefined), { timeoutMs: 60_000 });
      const after = (await decisions()).slice(v1Count);
      // Per customer, in order: the re-check's changes (RULES_CHANGED), then the click's own (EVENT).
      for (const c of ids) {
        expect(after.filter((d) => d.customerId === c).map(describeChanges)).toEqual([
          `${c} RULES_CHANGED it-rules-v2 -legacy(rules-changed) +high_value(enter)`,
          `${c} EVENT it-rules-v2 +engaged(enter)`,
        ]);
      }
      // Most were reached by their click first, not by the sweep (which skipped them).
      const p0 = await channel.partition(0);
      expect(p0.swept).toBeLessThan(ids.length);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('resumes a sweep where it stopped when the partition changes hands: every customer once', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-rr2');
    const groupId = uniqueName('it-rr2-g');
    const customers = Array.from({ length: 60 }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    let ev = await startEvaluator({ env, topics, rules: loadRules(V1), groupId, keyPrefix: prefix, liveRules: true, sweepRate: 10 });
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    try {
      const t = Date.now();
      await produceEvents(env, topics.customerEvents, customers.map((c) => purchaseEvent(c, t, 1000)));
      await waitFor('every customer +legacy', async () => ((await decisions()).length >= customers.length ? true : undefined), { timeoutMs: 30_000 });
      const channel = new RulesChannel(redis, prefix);
      await channel.publish(V2, { version: 'it-rules-v2', hash: loadRules(V2).hash }, 0, Date.now());
      // 10 customers a second: stop the owner part-way through its sweep.
      await waitFor('the sweep under way', async () => {
        const p = await channel.partition(0);
        return p.seq === 1 && p.swept > 0 && p.cursor !== null ? p : undefined;
      }, { timeoutMs: 30_000 });
      await ev.stop();
      const partWay = await channel.partition(0);
      expect(partWay.cursor).not.toBeNull();
      ev = await startEvaluator({ env, topics, rules: loadRules(V1), groupId, keyPrefix: prefix, liveRules: true, sweepRate: 1000 });
      await waitFor('the sweep done by the next owner', async () => ((await channel.partition(0)).cursor === null ? true : undefined), { timeoutMs: 60_000 });
      await waitFor('every sweep decision', async () => (new Set((await decisions()).filter((d) => d.cause.kind === 'RULES_CHANGED').map((d) => d.seq)).size >= customers.length ? true : undefined), { timeoutMs: 30_000 });
      // A decision Kafka took but whose outbox entry the stopped owner could not acknowledge is
      // sent again by the next owner under the same sequence number (downstream dedupes by it).
      const bySeq = new Map((await decisions()).map((d) => [d.seq, d] as const));
      const swept = [...bySeq.values()].filter((d) => d.cause.kind === 'RULES_CHANGED');
      // Exactly one -legacy per customer, under v2: none lost, none twice across the hand-over.
      expect(swept.map((d) => d.customerId).sort()).toEqual(customers);
      for (const d of swept) expect(describeChanges(d)).toBe(`${d.customerId} RULES_CHANGED it-rules-v2 -legacy(rules-changed)`);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('backfills a redefined filter from the input history (no spurious removal, as the dry run predicts), and a feature the history does not cover warms', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-rr3');
    // A new 2h feature, once the input's history no longer reaches back 2h: it warms, and big_2h holds meanwhile.
    const B3 = B2.replace('it-bf-v2', 'it-bf-v3')
      .replace('orders: { event: purchase, agg: count }', `orders: { event: purchase, agg: count }\n  eur_2h: { event: purchase, agg: sum, field: amountMinorBase, window: 2h, where: "event.currency == 'EUR'" }`)
      .replace('repeat: {', 'big_2h: { category: value, description: d, when: "eur_2h >= 15000", whileWarming: hold }\n  repeat: {');
    const usd = (c: string, at: number, amount: number) => {
      const e = purchaseEvent(c, at, amount);
      return { ...e, purchase: { ...e.purchase!, currency: 'USD' } };
    };
    const ev = await startEvaluator({ env, topics, rules: loadRules(B1), groupId: uniqueName('it-rr3-g'), keyPrefix: prefix, liveRules: true });
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    const channel = new RulesChannel(redis, prefix);
    try {
      const t = Date.now();
      await produceEvents(env, topics.customerEvents, [
        purchaseEvent('b-x', t, 20000),
        purchaseEvent('b-x', t + 1, 20000),
        purchaseEvent('b-y', t, 10000),
        usd('b-y', t + 1, 10000),
        purchaseEvent('b-z', t, 1000),
      ]);
      await waitFor('the v1 decisions', async () => ((await decisions()).length >= 3 ? true : undefined), { timeoutMs: 30_000 });
      expect((await decisions()).map(describeChanges).sort()).toEqual([
        'b-x EVENT it-bf-v1 +big_eur(enter)',
        'b-x EVENT it-bf-v1 +repeat(enter)',
        'b-y EVENT it-bf-v1 +big_eur(enter) +repeat(enter)',
      ]);

      // The dry run backfills eur_1h from the same history as the switch will.
      const dryB2 = ['diff', file('b2.yaml', B2), '--prefix', prefix, '--current', file('b1.yaml', B1), '--json', ...kafkaArgs(topics.customerEvents)];
      const dry = await cli(dryB2);
      expect(dry.stderr).toBe('');
      expect(dry.code).toBe(0);
      const prediction = JSON.parse(dry.stdout) as DiffJson;
      expect(prediction.backfill).toBe('simulated');
      expect(prediction.customers).toMatchObject({ customers: 3, changed: 1, unreadable: 0 });
      expect(prediction.warmingUp).toEqual([{ feature: 'eur_1h', history: '1h', fullFrom: expect.any(String), partitions: [{ partition: 0, reachedBack: null, whole: true, warmsUntil: null }] }]);
      // One customer's folds in memory at a time (a pass per customer with history): the same figures.
      const bounded = await cli([...dryB2, '--backfill-max-customers', '1']);
      expect(bounded.code).toBe(0);
      expect((JSON.parse(bounded.stdout) as DiffJson).customers).toEqual(prediction.customers);
      // Counted empty instead (the old worst case): b-x would lose big_eur too.
      const worst = await cli([...dryB2, '--no-backfill']);
      expect(worst.code).toBe(0);
      const worstCase = JSON.parse(worst.stdout) as DiffJson;
      expect(worstCase.backfill).toBe('skipped');
      expect(predicted(worstCase)).toEqual({ big_eur: { enter: [], leave: ['b-x', 'b-y'] } });
      // Kafka unreachable: a clear failure, no silent fallback to the worst case.
      const down = await cli([...dryB2, '--brokers', '127.0.0.1:1']);
      expect(down.code).toBe(1);
      expect(down.stdout).toBe('');
      expect(down.stderr).toMatch(new RegExp(`cannot read the history of ${topics.customerEvents} partition 0 \\(brokers 127\\.0\\.0\\.1:1, registry .*--no-backfill`));

      await channel.publish(B2, { version: 'it-bf-v2', hash: loadRules(B2).hash }, 0, Date.now());
      await waitFor('switched and swept', async () => {
        const p = await channel.partition(0);
        return p.seq === 1 && p.cursor === null ? p : undefined;
      }, { timeoutMs: 30_000 });
      await waitFor('the v2 sweep decision', async () => ((await decisions()).length >= 4 ? true : undefined), { timeoutMs: 30_000 });
      // Exactly one change: b-y's USD purchase no longer counts. b-x keeps big_eur (without the
      // backfill its redefined feature would start empty and remove it).
      expect((await decisions()).slice(3).map(describeChanges)).toEqual(['b-y RULES_CHANGED it-bf-v2 -big_eur(exit)']);
      // The dry run predicted exactly the deploy's changes; the worst case did not.
      expect(predicted(prediction)).toEqual(moved((await decisions()).slice(3)));
      expect(predicted(worstCase)).not.toEqual(moved((await decisions()).slice(3)));
      expect((await channel.partition(0)).warming).toEqual([]);
      const bx = await explainCustomer(redis, prefix, 1, ev.evaluator.rulesOf, 'b-x', Date.now());
      if (!bx.found) throw new Error('b-x not found');
      expect(bx.explanation.features.eur_1h).toBe(40000);
      expect(bx.warmingUp).toEqual([]);

      // The history now starts at b-w's purchase: everything before it is deleted from the input.
      const admin = testKafka(env).admin();
      await admin.connect();
      const before = Date.now();
      await produceEvents(env, topics.customerEvents, [purchaseEvent('b-w', Date.now(), 20000)]);
      const produced = Date.now();
      await admin.fetchTopicMetadata({ topics: [topics.customerEvents] }); // deleteTopicRecords needs the partition leaders
      await admin.deleteTopicRecords({ topic: topics.customerEvents, partitions: [{ partition: 0, offset: '5' }] });
      await admin.disconnect();
      await waitFor('b-w decided', async () => ((await decisions()).length >= 5 ? true : undefined), { timeoutMs: 30_000 });
      expect(describeChanges((await decisions())[4]!)).toBe('b-w EVENT it-bf-v2 +big_eur(enter)');
      const count = (await decisions()).length;

      // The dry run of v3 reads the cut history as the switch will: the warm-up it predicts is the one recorded below.
      const dry3 = await cli(['diff', file('b3.yaml', B3), '--prefix', prefix, '--json', ...kafkaArgs(topics.customerEvents)]);
      expect(dry3.code).toBe(0);
      const prediction3 = JSON.parse(dry3.stdout) as DiffJson;
      expect(prediction3.customers).toMatchObject({ customers: 4, changed: 0 });
      const text3 = await cli(['diff', file('b3.yaml', B3), '--prefix', prefix, ...kafkaArgs(topics.customerEvents)]);
      expect(text3.code).toBe(0);

      await channel.publish(B3, { version: 'it-bf-v3', hash: loadRules(B3).hash }, 1, Date.now());
      const p = await waitFor('switched to v3 and swept', async () => {
        const q = await channel.partition(0);
        return q.seq === 2 && q.cursor === null ? q : undefined;
      }, { timeoutMs: 30_000 });
      // eur_2h warms until the earliest retained event + 2h (not the switch + 2h: the backfill reached back to b-w).
      expect(p.warming.map((w) => w.feature)).toEqual(['eur_2h']);
      const until = p.warming[0]!.until!;
      expect(until).toBeGreaterThanOrEqual(before + 7_200_000);
      expect(until).toBeLessThanOrEqual(produced + 7_200_000);
      expect(until).toBeLessThan(p.switchedAt! + 7_200_000);
      const reachedBack = new Date(until - 7_200_000).toISOString(); // b-w's record, the earliest retained
      expect(prediction3.warmingUp).toEqual([{ feature: 'eur_2h', history: '2h', fullFrom: expect.any(String), partitions: [{ partition: 0, reachedBack, whole: false, warmsUntil: new Date(until).toISOString() }] }]);
      expect(text3.stdout).toContain(`  eur_2h: backfilled from the input topic, whose history reaches back only to ${reachedBack} (p0): warming up until ${new Date(until).toISOString()}`);
      const bw = await explainCustomer(redis, prefix, 1, ev.evaluator.rulesOf, 'b-w', Date.now());
      if (!bw.found) throw new Error('b-w not found');
      // b-w's purchase is in the retained history: backfilled; big_2h holds its state (not held) while warming.
      expect(bw.explanation.features.eur_2h).toBe(20000);
      expect(bw.warmingUp).toEqual([{ feature: 'eur_2h', until }]);
      expect(bw.explanation.labels.find((l) => l.label === 'big_2h')).toMatchObject({ held: false, warmingUntil: until });
      const bx3 = await explainCustomer(redis, prefix, 1, ev.evaluator.rulesOf, 'b-x', Date.now());
      if (!bx3.found) throw new Error('b-x not found');
      expect(bx3.explanation.features.eur_2h).toBe(0); // its purchases were deleted from the history
      const warm = await ev.metrics.registry.getSingleMetricAsString('labelstream_rules_feature_warm_until_seconds');
      expect(warm).toContain(`labelstream_rules_feature_warm_until_seconds{partition="0",feature="eur_2h",service="evaluator"} ${until / 1000}`);
      // No label change from v3: big_2h holds while warming, nothing else changed.
      expect((await decisions()).length).toBe(count);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });

  it('a backfill re-run (after a crash before its switch) replaces what the new feature held: never counts twice', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-rr4');
    const groupId = uniqueName('it-rr4-g');
    let ev = await startEvaluator({ env, topics, rules: loadRules(B1), groupId, keyPrefix: prefix, liveRules: true });
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    const channel = new RulesChannel(redis, prefix);
    try {
      const t = Date.now();
      await produceEvents(env, topics.customerEvents, [purchaseEvent('r-x', t, 20000), purchaseEvent('r-x', t + 1, 20000)]);
      await waitFor('the v1 decisions', async () => ((await decisions()).length >= 2 ? true : undefined), { timeoutMs: 30_000 });
      await ev.stop();
      // What a backfill that crashed before its switch leaves: the new key already filled (here, wrongly).
      const key = new PartitionKeys(prefix, 0).customer('r-x');
      const raw = (await redis.get(key))!;
      const bar = raw.indexOf('|');
      const state = decodeState(raw.slice(bar + 1));
      const feature = loadRules(B2).features.find((f) => f.name === 'eur_1h')!;
      state.f[feature.storageKey] = { k: 'w', b: [[Math.floor(t / feature.bucketMs), 999_999]] };
      await redis.set(key, `${raw.slice(0, bar)}|${encodeState(state, { idsApart: true })}`);
      ev = await startEvaluator({ env, topics, rules: loadRules(B1), groupId, keyPrefix: prefix, liveRules: true });
      await channel.publish(B2, { version: 'it-bf-v2', hash: loadRules(B2).hash }, 0, Date.now());
      await waitFor('switched and swept', async () => {
        const p = await channel.partition(0);
        return p.seq === 1 && p.cursor === null ? p : undefined;
      }, { timeoutMs: 30_000 });
      const rx = await explainCustomer(redis, prefix, 1, ev.evaluator.rulesOf, 'r-x', Date.now());
      if (!rx.found) throw new Error('r-x not found');
      expect(rx.explanation.features.eur_1h).toBe(40000);
      expect(rx.explanation.rulesVersion).toBe('it-bf-v2');
      // Nothing to decide: r-x keeps big_eur and repeat.
      expect((await decisions()).map(describeChanges)).toEqual(['r-x EVENT it-bf-v1 +big_eur(enter)', 'r-x EVENT it-bf-v1 +repeat(enter)']);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });
});
