/**
 * Changing the rules live, on the real stack (README "Changing rules"): a stream runs under
 * v1; `labelstream rules deploy` publishes v2, which changes a threshold, adds a label and
 * removes one; every partition switches once and its sweep re-evaluates every customer —
 * the exact label changes expected, each with cause RULES_CHANGED and version v2, and none
 * spurious; live events after the switch are decided under v2. Bad input: an invalid file
 * and a racing deploy are refused with nothing changed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import type { LabelDecision } from '@labelstream/contracts';
import { decodeState } from '@labelstream/engine';
import { PartitionKeys, RulesChannel, RulesConflictError } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { collect, connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { decodeDecisions, makeTopics, produceEvents, purchaseEvent, startEvaluator } from '../support/evaluator-harness';
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
// threshold 10000 → 5000; loyal added; legacy removed; engaged added, on a new feature (it
// warms up); eur_1h's filter changes (a new definition, empty) and big_eur holds meanwhile
const V2 = V1.replace('it-rules-v1', 'it-rules-v2')
  .replace('eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }', `eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h, where: "event.currency == 'EUR'" }`)
  .replace('when: "eur_1h >= 15000" }', 'when: "eur_1h >= 15000", whileWarming: hold }')
  .replace('spend_1h >= 10000', 'spend_1h >= 5000')
  .replace('orders: { event: purchase, agg: count }', 'orders: { event: purchase, agg: count }\n  clicks_1h: { event: email_click, agg: count, window: 1h }')
  .replace('legacy: { category: custom, description: d, when: "orders >= 1" }', 'loyal: { category: behaviour, description: d, when: "orders >= 3" }\n  engaged: { category: behaviour, description: d, when: "clicks_1h >= 1" }');

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

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const describeChanges = (d: LabelDecision): string => `${d.customerId} ${d.cause.kind} ${d.rulesVersion} ${d.changes.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}(${c.reason})`).join(' ')}`;

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
      const dry = await cli(['diff', file('v2-dry.yaml', V2), '--prefix', prefix, '--current', file('v1.yaml', V1), '--json', '--max-changed', '3']);
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
      expect(why.warmingUp).toEqual([
        { feature: 'eur_1h', until: expect.any(Number) },
        { feature: 'clicks_1h', until: expect.any(Number) },
      ]);
      const switchedAt = (await channel.partition(why.partition)).switchedAt!;
      expect(switchedAt).toBeGreaterThanOrEqual(t);
      expect(why.warmingUp[0]!.until).toBe(switchedAt + 3_600_000);
      expect(why.recentDecisions[0]).toMatchObject({ cause: 'rules changed', changes: ['-legacy (rules-changed)', '+loyal'], rules: 'it-rules-v2' });

      // big_eur (whileWarming: hold) stays with c-c while its redefined feature is empty: no removal above.
      const cc = await explainCustomer(redis, prefix, 2, ev.evaluator.rulesOf, 'c-c', Date.now());
      if (!cc.found) throw new Error('c-c not found');
      expect(cc.explanation.labels.find((l) => l.label === 'big_eur')).toMatchObject({ held: true, holds: true, change: null, warmingUntil: cc.warmingUp[0]!.until, decidedUnder: 'it-rules-v2' });
      expect(cc.explanation.features.eur_1h).toBe(0);

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
      expect(warm).toMatch(/labelstream_rules_feature_warm_until_seconds\{partition="1",feature="clicks_1h",service="evaluator"\} \d+/);
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
      await waitFor('every sweep decision', async () => ((await decisions()).filter((d) => d.cause.kind === 'RULES_CHANGED').length >= customers.length ? true : undefined), { timeoutMs: 30_000 });
      const swept = (await decisions()).filter((d) => d.cause.kind === 'RULES_CHANGED');
      // Exactly one -legacy per customer, under v2: none lost, none twice across the hand-over.
      expect(swept.map((d) => d.customerId).sort()).toEqual(customers);
      for (const d of swept) expect(describeChanges(d)).toBe(`${d.customerId} RULES_CHANGED it-rules-v2 -legacy(rules-changed)`);
    } finally {
      await out.stop();
      await ev.stop();
    }
  });
});
