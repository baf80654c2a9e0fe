/**
 * Label populations from the authoritative state, end to end: the three built services as
 * real processes; the publisher restarted, the evaluator restarted (one partition's counters
 * deleted meanwhile, as in a state from before them), then scaled from one instance to two.
 * After each step the exported `labelstream_label_population` summed by label over every
 * evaluator must equal a count of the compacted current-labels topic and the figure the
 * input implies; `labelstream_unlabelled_customers` the stored states holding no label.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Redis from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import { customerLabelsType, type CustomerLabels } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { PartitionKeys } from '@labelstream/redis-state';
import { collect, connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { pipelineTopics, startService, type RunningService } from '../support/services';

const RULES = `
version: "pop-1"
allowedLateness: 30d
features:
  orders:  { event: purchase, agg: count, window: lifetime }
  spend:   { event: purchase, agg: sum, field: amountMinorBase, window: lifetime }
  clicks:  { event: email_click, agg: count, window: lifetime }
labels:
  customer:   { description: "Ordered.", category: lifecycle, when: "orders >= 1" }
  big:        { description: "Spent 100.00.", category: value, when: "spend >= 10000" }
  one_order:  { description: "Exactly one order.", category: lifecycle, when: "orders == 1" }
  clicker:    { description: "Two clicks.", category: behaviour, when: "clicks >= 2" }
`;
const PARTITIONS = 4;

let env: StackEnv;
const running = new Set<RunningService>();

beforeAll(async () => {
  env = await connectStack();
  execFileSync('npx', ['tsc', '-b', 'services/ingest', 'services/evaluator', 'services/publisher'], { cwd: join(__dirname, '..', '..'), stdio: 'inherit' });
});
afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop()));
});

/** What the test sends: per customer, orders (amounts) and clicks; the labels follow from the rules above. */
class Input {
  readonly orders = new Map<string, number[]>();
  readonly clicks = new Map<string, number>();

  expected(): { labels: Map<string, number>; none: number; customers: number } {
    const labels = new Map<string, number>();
    let none = 0;
    const ids = new Set([...this.orders.keys(), ...this.clicks.keys()]);
    for (const c of ids) {
      const o = this.orders.get(c) ?? [];
      const held = [o.length >= 1 && 'customer', o.reduce((a, b) => a + b, 0) >= 10_000 && 'big', o.length === 1 && 'one_order', (this.clicks.get(c) ?? 0) >= 2 && 'clicker'].filter((x): x is string => Boolean(x));
      for (const l of held) labels.set(l, (labels.get(l) ?? 0) + 1);
      if (!held.length) none++;
    }
    return { labels, none, customers: ids.size };
  }
}

/** Samples of one metric summed by a label, over several scrapes. */
function sumBy(texts: string[], name: string, by: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const key = new RegExp(`${by}="([^"]*)"`).exec(line)?.[1] ?? '';
      out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  }
  return out;
}

/** The partitions whose population series a scrape carries. */
function exportedPartitions(text: string): Set<string> {
  return new Set([...text.matchAll(/^labelstream_unlabelled_customers\{[^}]*partition="(\d+)"/gm)].map((m) => m[1]!));
}

const nonZero = (m: Map<string, number>) => new Map([...m].filter(([, n]) => n !== 0).sort());

describe('label populations', () => {
  it('stay exact across a publisher restart, an evaluator restart and a scale-out to two evaluators', async () => {
    const p = uniqueName('pop');
    const prefix = p.replace(/[^a-z0-9_-]/g, '').slice(0, 32);
    const topics = pipelineTopics(p);
    const kafka: Kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [
      ...[topics.TOPIC_RAW_PURCHASES, topics.TOPIC_RAW_EMAIL_CLICKS, topics.TOPIC_RAW_SUPPORT_TICKETS, topics.TOPIC_DLQ].map((topic) => ({ topic, partitions: 2 })),
      ...[topics.TOPIC_CUSTOMER_EVENTS, topics.TOPIC_DECISIONS, topics.TOPIC_LABEL_EVENTS].map((topic) => ({ topic, partitions: PARTITIONS })),
      { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: PARTITIONS, config: { 'cleanup.policy': 'compact' } },
    ]);
    await admin.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'labelstream-pop-'));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES);
    const common = { KAFKA_BROKERS: env.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: env.schemaRegistryUrl, LOG_LEVEL: 'warn', TOPIC_PARTITIONS: String(PARTITIONS), SHUTDOWN_TIMEOUT: '5s', ...topics };
    const evaluatorEnv = { ...common, EVALUATOR_GROUP_ID: `${p}-evaluator`, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: prefix, RULES_FILE: rulesFile, CONSUMER_SESSION_TIMEOUT: '6s' };
    const start = async (name: 'ingest' | 'evaluator' | 'publisher', extra: Record<string, string>) => {
      const s = await startService(name, { ...common, ...extra });
      running.add(s);
      return s;
    };
    const stop = async (s: RunningService) => {
      await s.stop();
      running.delete(s);
    };

    const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 });
    const registry = new Registry({ url: env.schemaRegistryUrl });
    const current = await collect(kafka, [topics.TOPIC_CUSTOMER_LABELS]);
    const producer: Producer = kafka.producer();
    await producer.connect();
    const input = new Input();
    let n = 0;
    /** Sends orders and clicks for `count` customers starting at `from` (customers met again get more events). */
    const send = async (from: number, count: number) => {
      const json = (o: object) => Buffer.from(JSON.stringify(o));
      const purchases = [];
      const clicks = [];
      for (let i = from; i < from + count; i++) {
        const c = `pop-${String(i).padStart(4, '0')}`;
        const at = new Date(Date.now() - 60_000).toISOString();
        if (i % 3 !== 2) {
          const amount = 2000 + (i % 5) * 2500;
          input.orders.set(c, [...(input.orders.get(c) ?? []), amount]);
          purchases.push({ key: c, value: json({ eventId: `${p}-${n++}`, customerId: c, occurredAt: at, orderId: `o-${n}`, amountMinor: amount, currency: 'EUR', items: [{ sku: 's', category: 'home', quantity: 1, unitPriceMinor: amount }], channel: 'web' }) });
        }
        if (i % 2 === 0) {
          input.clicks.set(c, (input.clicks.get(c) ?? 0) + 1);
          clicks.push({ key: c, value: json({ eventId: `${p}-${n++}`, customerId: c, occurredAt: at, campaignId: 'cmp', emailId: `m-${n}`, url: 'https://shop.example/' }) });
        }
      }
      await producer.send({ topic: topics.TOPIC_RAW_PURCHASES, messages: purchases });
      await producer.send({ topic: topics.TOPIC_RAW_EMAIL_CLICKS, messages: clicks });
    };

    /** The current sets on the compacted topic, counted per label. */
    const compactedCount = async () => {
      const last = new Map<string, CustomerLabels>();
      for (const m of current.messages) {
        const r = await registry.decode<CustomerLabels>(m.value, customerLabelsType);
        last.set(r.customerId, r);
      }
      const counts = new Map<string, number>();
      for (const r of last.values()) for (const l of r.labels) counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
      return counts;
    };
    const storedStates = async () => {
      let total = 0;
      for (let q = 0; q < PARTITIONS; q++) total += (await redis.keys(new PartitionKeys(prefix, q).customerPattern)).length;
      return total;
    };

    /** Waits until the evaluators export what the input implies, then checks it against the compacted topic and Redis. */
    const check = async (step: string, evaluators: RunningService[]) => {
      const want = input.expected();
      let seen: unknown;
      const scrapes = await waitFor(
        `${step}: populations of ${want.customers} customers exported and the compacted topic caught up`,
        async () => {
          const texts = await Promise.all(evaluators.map((e) => e.metrics()));
          const pop = nonZero(sumBy(texts, 'labelstream_label_population', 'label'));
          const none = [...sumBy(texts, 'labelstream_unlabelled_customers', 'partition').values()].reduce((a, b) => a + b, 0);
          const compacted = nonZero(await compactedCount());
          seen = { exported: [...pop], none, compacted: [...compacted] };
          const ok = JSON.stringify([...pop]) === JSON.stringify([...nonZero(want.labels)]) && none === want.none && JSON.stringify([...compacted]) === JSON.stringify([...pop]);
          return ok ? texts : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 300, lastSeen: () => ({ want: [...nonZero(want.labels)], none: want.none, seen }) },
      );
      // Every partition exported by exactly one evaluator.
      const parts = scrapes.map(exportedPartitions);
      expect(parts.flatMap((s) => [...s]).sort()).toEqual(Array.from({ length: PARTITIONS }, (_, i) => String(i)));
      // Customers with a label plus those with none: every stored state, once.
      const withLabel = new Set<string>();
      const last = new Map<string, CustomerLabels>();
      for (const m of current.messages) {
        const r = await registry.decode<CustomerLabels>(m.value, customerLabelsType);
        last.set(r.customerId, r);
      }
      for (const r of last.values()) if (r.labels.length) withLabel.add(r.customerId);
      expect(withLabel.size + want.none).toBe(await storedStates());
    };

    try {
      await start('ingest', { INGEST_GROUP_ID: `${p}-ingest` });
      let evaluator = await start('evaluator', evaluatorEnv);
      let publisher = await start('publisher', { PUBLISHER_GROUP_ID: `${p}-publisher` });
      await send(0, 30);
      await check('first run', [evaluator]);

      // Publisher restarted: its figures never were the population; nothing changes.
      await stop(publisher);
      publisher = await start('publisher', { PUBLISHER_GROUP_ID: `${p}-publisher` });
      await send(20, 30); // 10 customers met again, 20 new
      await check('after a publisher restart', [evaluator]);
      expect(await publisher.metrics()).not.toMatch(/^labelstream_label_population\{/m);

      // Evaluator restarted, with partition 0's counters gone meanwhile (a state from before them).
      await stop(evaluator);
      await redis.del(new PartitionKeys(prefix, 0).population);
      evaluator = await start('evaluator', evaluatorEnv);
      await send(40, 30);
      await check('after an evaluator restart and a lost counter hash', [evaluator]);

      // Scaled out: a second evaluator takes some partitions over; each exports only its own.
      const second = await start('evaluator', evaluatorEnv);
      await waitFor('both evaluators own partitions', async () => {
        const [a, b] = await Promise.all([evaluator, second].map(async (e) => exportedPartitions(await e.metrics())));
        return a!.size > 0 && b!.size > 0 && a!.size + b!.size === PARTITIONS;
      }, { timeoutMs: 60_000, intervalMs: 300 });
      await send(60, 40);
      await check('with two evaluators', [evaluator, second]);
    } finally {
      await producer.disconnect();
      await current.stop();
      redis.disconnect();
    }
  });
});
