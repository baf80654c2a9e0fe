/**
 * Graceful shutdown and overload, with the built services as processes on the real stack:
 * - SIGTERM while each service is in the middle of a backlog: it drains, exits 0 within
 *   SHUTDOWN_TIMEOUT, and after a restart the public label events are exactly the
 *   oracle's (nothing lost, nothing doubled, nothing out of order);
 * - Redis down (a redis-server of the test's own): the evaluator reports not ready, stays
 *   alive, reconnects with backoff, and resumes without loss when Redis returns;
 * - schema registry down: the ingest process reports not ready while it retries, and
 *   resumes without loss or dead letters (the retry itself: ingest.itest.ts);
 * - a backlog on a single partition: outputs larger than one produce request are split, so
 *   no batch fails for good (found here: both services once sent a batch's whole output at once);
 * - a backlog of 200 000 events: ingest's and the evaluator's memory stay bounded (they work
 *   through it within a 384 MiB heap), because consumption is pulled in bounded fetches.
 * Kafka broker restarts are exercised by the fault run (`pnpm test:faults --broker-restart`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { customerEventType, labelEventType, typeForSchema, type AvroRecordSchema, type CustomerEvent, type LabelEvent } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { compareSequences, runOracle } from '@labelstream/oracle';
import { loadRules } from '@labelstream/rules';
import { connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { groupLag, readTopic } from '../faults/observe';
import { OwnRedis } from '../faults/own-redis';
import { startRegistryProxy } from './ingest-fixtures';
import { metricSum, startService, type RunningService } from '../support/services';

jest.setTimeout(420_000);

const ROOT = join(__dirname, '..', '..');
const SHUTDOWN_MS = 5000;
/** The heap limit the backlog test runs the services with (MiB), and how far their RSS may grow (MiB). */
const HEAP_MIB = 384;
const BACKLOG_RSS_MIB = 400;
/** Lifetime features only, so no timer depends on the wall clock: the oracle is exact whatever the timing. */
const RULES = `
version: "resilience-1"
allowedLateness: 1h
features:
  orders: { event: purchase, agg: count }
  clicks: { event: email_click, agg: count }
  spend:  { event: purchase, agg: sum, field: amountMinorBase }
labels:
  buyer:      { category: lifecycle, description: "bought", when: "orders >= 1" }
  regular:    { category: lifecycle, description: "bought 3 times", when: "orders >= 3" }
  odd_clicks: { category: behaviour, description: "an odd number of clicks (flips with every click)", when: "clicks % 2 == 1" }
  big:        { category: value, description: "spent 200.00", enter: "spend >= 20000", exit: "spend < 20000" }
groups:
  lifecycle: { exclusive: true, priority: [regular, buyer] }
`;

let env: StackEnv;
let kafka: Kafka;
let admin: Admin;
let registry: Registry;
let rulesFile: string;
const running: RunningService[] = [];

beforeAll(async () => {
  env = await connectStack();
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'services/ingest', 'services/evaluator', 'services/publisher', 'packages/oracle'], { cwd: ROOT, stdio: 'pipe', timeout: 300_000 });
  kafka = testKafka(env, 'resilience');
  admin = kafka.admin();
  await admin.connect();
  registry = new Registry({ url: env.schemaRegistryUrl });
  rulesFile = join(mkdtempSync(join(tmpdir(), 'labelstream-resilience-')), 'rules.yaml');
  writeFileSync(rulesFile, RULES);
}, 320_000);
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop(3000)));
});
afterAll(async () => {
  await admin?.disconnect();
});

interface Pipeline {
  prefix: string;
  topics: Record<string, string>;
  raw: string[];
  groups: { ingest: string; evaluator: string; publisher: string };
  envFor(name: 'ingest' | 'evaluator' | 'publisher', extra?: Record<string, string>): Record<string, string>;
}

async function pipeline(name: string, redisUrl = env.redisUrl, partitions = 3): Promise<Pipeline> {
  const prefix = uniqueName(name);
  const topics = {
    TOPIC_RAW_PURCHASES: `${prefix}.purchases`,
    TOPIC_RAW_EMAIL_CLICKS: `${prefix}.email-clicks`,
    TOPIC_RAW_SUPPORT_TICKETS: `${prefix}.support-tickets`,
    TOPIC_CUSTOMER_EVENTS: `${prefix}.customer-events`,
    TOPIC_DLQ: `${prefix}.dlq`,
    TOPIC_DECISIONS: `${prefix}.decisions`,
    TOPIC_LABEL_EVENTS: `${prefix}.label-events`,
    TOPIC_CUSTOMER_LABELS: `${prefix}.customer-labels`,
  };
  const raw = [topics.TOPIC_RAW_PURCHASES, topics.TOPIC_RAW_EMAIL_CLICKS, topics.TOPIC_RAW_SUPPORT_TICKETS];
  await createTestTopics(admin, [
    ...raw.map((topic) => ({ topic, partitions })),
    { topic: topics.TOPIC_DLQ, partitions: 1 },
    ...[topics.TOPIC_CUSTOMER_EVENTS, topics.TOPIC_DECISIONS, topics.TOPIC_LABEL_EVENTS].map((topic) => ({ topic, partitions })),
    { topic: topics.TOPIC_CUSTOMER_LABELS, partitions, config: { 'cleanup.policy': 'compact' } },
  ]);
  const groups = { ingest: `${prefix}-ingest`, evaluator: `${prefix}-evaluator`, publisher: `${prefix}-publisher` };
  const common = { KAFKA_BROKERS: env.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: env.schemaRegistryUrl, LOG_LEVEL: 'warn', TOPIC_PARTITIONS: String(partitions), SHUTDOWN_TIMEOUT: `${SHUTDOWN_MS / 1000}s`, ...topics };
  return {
    prefix,
    topics,
    raw,
    groups,
    envFor: (svc, extra = {}) => {
      if (svc === 'ingest') return { ...common, INGEST_GROUP_ID: groups.ingest, ...extra };
      if (svc === 'evaluator') return { ...common, EVALUATOR_GROUP_ID: groups.evaluator, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix.replace(/[^a-z0-9_-]/g, '').slice(0, 40), RULES_FILE: rulesFile, ...extra };
      return { ...common, PUBLISHER_GROUP_ID: groups.publisher, ...extra };
    },
  };
}

async function start(p: Pipeline, svc: 'ingest' | 'evaluator' | 'publisher', extra?: Record<string, string>): Promise<RunningService> {
  const s = await startService(svc, p.envFor(svc, extra), { readyTimeoutMs: 120_000 });
  running.push(s);
  return s;
}

/** Raw JSON events for `customers` customers, round-robin over the three kinds; event times in the past, in order per customer. */
async function produceRaw(producer: Producer, p: Pipeline, from: number, count: number, customers: number): Promise<void> {
  const t0 = Date.now() - 3_600_000;
  for (let start = from; start < from + count; start += 2000) {
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
    for (let i = start; i < Math.min(from + count, start + 2000); i++) {
      const customerId = `c-${String(i % customers).padStart(6, '0')}`;
      const base = { eventId: `${p.prefix}-${i}`, customerId, occurredAt: t0 + i };
      const kind = i % 3;
      const value =
        kind === 0
          ? { ...base, orderId: `o-${i}`, amountMinor: 1000 + (i % 7) * 1000, currency: 'EUR', items: [{ sku: 'S', category: 'home', quantity: 1, unitPriceMinor: 1000 + (i % 7) * 1000 }], channel: 'web' }
          : kind === 1
            ? { ...base, campaignId: 'cmp', emailId: `m-${i}`, url: 'https://shop.example/x' }
            : { ...base, ticketId: `t-${i}`, status: 'opened', priority: 'normal' };
      // One topic per kind, keyed by customer so a customer's events of a kind stay in order.
      const topic = p.raw[kind]!;
      const list = byTopic.get(topic) ?? [];
      list.push({ key: customerId, value: Buffer.from(JSON.stringify(value)) });
      byTopic.set(topic, list);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }
}

/** Waits until every group has committed to the end of its input. */
async function drained(p: Pipeline, timeoutMs = 240_000): Promise<void> {
  let seen: unknown;
  await waitFor(
    'the pipeline to drain',
    async () => {
      seen = {
        ingest: await groupLag(admin, p.groups.ingest, p.raw),
        evaluator: await groupLag(admin, p.groups.evaluator, [p.topics.TOPIC_CUSTOMER_EVENTS!]),
        publisher: await groupLag(admin, p.groups.publisher, [p.topics.TOPIC_DECISIONS!]),
      };
      return Object.values(seen as Record<string, number>).every((v) => v === 0);
    },
    { timeoutMs, intervalMs: 500, lastSeen: () => seen },
  );
}

/** The public label events against the oracle over what ingest accepted: nothing missing, unexplained, doubled or out of order. */
async function expectExactlyTheOracle(p: Pipeline): Promise<{ expected: number; published: number }> {
  const canonical: CustomerEvent[] = [];
  for (const r of await readTopic(kafka, p.topics.TOPIC_CUSTOMER_EVENTS!)) canonical.push(await registry.decode<CustomerEvent>(r.value, customerEventType));
  const published: LabelEvent[] = [];
  for (const r of await readTopic(kafka, p.topics.TOPIC_LABEL_EVENTS!)) published.push(await registry.decode<LabelEvent>(r.value, labelEventType));
  const oracle = runOracle(canonical, loadRules(RULES));
  const ids = new Set(published.map((e) => e.eventId));
  expect(published.length - ids.size).toBe(0); // no duplicates
  const problems: string[] = [];
  let expected = 0;
  for (const [customerId, outcome] of oracle) {
    const want = outcome.changes.map((c) => ({ label: c.label, change: c.change, effectiveAt: c.effectiveAt, causeEventId: c.causeEventId }));
    const got = published.filter((e) => e.customerId === customerId).map((e) => ({ label: e.label, change: e.type === 'LABEL_ASSIGNED' ? ('ASSIGNED' as const) : ('REMOVED' as const), effectiveAt: e.effectiveAt, causeEventId: e.causeEventId }));
    const cmp = compareSequences(want, got);
    expected += want.length;
    if (cmp.missing.length || cmp.unexplained.length || cmp.outOfOrder) problems.push(`${customerId}: ${cmp.missing.length} missing, ${cmp.unexplained.length} unexplained, ${cmp.outOfOrder} out of order`);
  }
  expect(problems.slice(0, 10)).toEqual([]);
  expect(published).toHaveLength(expected);
  return { expected, published: published.length };
}

/** SIGTERM, and how it went. */
async function terminate(s: RunningService): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const { code } = await s.stop(SHUTDOWN_MS + 10_000);
  running.splice(running.indexOf(s), 1);
  return { code, ms: Date.now() - t0 };
}

describe('graceful shutdown and overload', () => {
  it('SIGTERM mid-backlog: each service drains and exits 0 within SHUTDOWN_TIMEOUT; after restarts nothing is lost or doubled', async () => {
    const p = await pipeline('res-term');
    const producer = kafka.producer();
    await producer.connect();
    await produceRaw(producer, p, 0, 30_000, 300);
    await producer.disconnect();
    const progress = async (s: RunningService, name: string, min: number) =>
      waitFor(`${s.name} to have consumed ${min}`, async () => metricSum(await s.metrics(), name) >= min, { timeoutMs: 120_000, intervalMs: 200 });
    let ingest = await start(p, 'ingest');
    // The evaluator starts behind the whole backlog of canonical events, so that it is still
    // working through it when it is stopped (started earlier, a fast evaluator keeps up with
    // ingest), and applies it in slices of 50 events, each committed on its own: hundreds of
    // slices are left when it is stopped (with 2000-event slices it once finished the 30 000
    // between the progress check and the lag read, on a quiet CI machine).
    await progress(ingest, 'labelstream_events_consumed_total', 30_000);
    let evaluator = await start(p, 'evaluator', { EVALUATOR_MAX_BATCH_EVENTS: '50' });
    let publisher = await start(p, 'publisher');

    // The evaluator, while it works through its backlog.
    await progress(evaluator, 'labelstream_events_consumed_total', 2000);
    const lagBefore = await groupLag(admin, p.groups.evaluator, [p.topics.TOPIC_CUSTOMER_EVENTS!]);
    const ev = await terminate(evaluator);
    expect(lagBefore).toBeGreaterThan(0);
    expect(ev).toMatchObject({ code: 0 });
    expect(ev.ms).toBeLessThan(SHUTDOWN_MS + 2000);
    evaluator = await start(p, 'evaluator');

    // The publisher, mid-stream.
    await progress(publisher, 'labelstream_events_consumed_total', 1000);
    const pub = await terminate(publisher);
    expect(pub).toMatchObject({ code: 0 });
    expect(pub.ms).toBeLessThan(SHUTDOWN_MS + 2000);
    publisher = await start(p, 'publisher');

    // Ingest, with raw input still ahead of it.
    await produceRawLater(p, 30_000, 10_000);
    await progress(ingest, 'labelstream_events_consumed_total', 1000);
    const ing = await terminate(ingest);
    expect(ing).toMatchObject({ code: 0 });
    expect(ing.ms).toBeLessThan(SHUTDOWN_MS + 1000);
    ingest = await start(p, 'ingest');

    await drained(p);
    const { expected } = await expectExactlyTheOracle(p);
    console.log(`SIGTERM mid-backlog: evaluator exited ${ev.code} after ${ev.ms} ms, publisher ${pub.code} after ${pub.ms} ms, ingest ${ing.code} after ${ing.ms} ms; ${expected} label events equal the oracle`);
    expect(expected).toBeGreaterThan(10_000);
    for (const s of [ingest, evaluator, publisher]) expect(s.child.exitCode).toBeNull();
  });

  it('Redis down: the evaluator reports not ready, stays alive, and resumes without loss when Redis returns', async () => {
    const redis = await OwnRedis.start(mkdtempSync(join(tmpdir(), 'labelstream-resilience-redis-')));
    try {
      const p = await pipeline('res-redis', redis.url);
      const producer = kafka.producer();
      await producer.connect();
      await produceRaw(producer, p, 0, 3000, 100);
      const ingest = await start(p, 'ingest');
      const evaluator = await start(p, 'evaluator');
      const publisher = await start(p, 'publisher');
      await waitFor('the first wave evaluated', async () => (await groupLag(admin, p.groups.evaluator, [p.topics.TOPIC_CUSTOMER_EVENTS!])) === 0, { timeoutMs: 120_000, intervalMs: 500 });

      await redis.stop();
      await produceRaw(producer, p, 3000, 3000, 100);
      const ready = async () => (await fetch(`http://127.0.0.1:${evaluator.port}/readyz`)).status;
      await waitFor('the evaluator to report not ready', async () => (await ready()) === 503, { timeoutMs: 30_000, intervalMs: 200 });
      // Down for a while: not ready, but alive, and not spinning (reconnects back off).
      const t0 = Date.now();
      const statuses: number[] = [];
      while (Date.now() - t0 < 10_000) {
        statuses.push(await ready());
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(new Set(statuses)).toEqual(new Set([503]));
      expect((await fetch(`http://127.0.0.1:${evaluator.port}/healthz`)).status).toBe(200);
      expect(metricSum(await evaluator.metrics(), 'labelstream_ready')).toBe(0);
      const reconnects = (evaluator.output().match(/redis connection error/g) ?? []).length;
      expect(reconnects).toBeLessThan(60); // ioredis backs off (50 ms growing to 2 s), ~10 s down

      await redis.kill9AndRestart(0); // the same port and data directory: back with its AOF
      await waitFor('the evaluator to report ready again', async () => (await ready()) === 200, { timeoutMs: 60_000, intervalMs: 200 });
      await produceRaw(producer, p, 6000, 1000, 100);
      await producer.disconnect();
      await drained(p);
      await expectExactlyTheOracle(p);
      for (const s of [ingest, evaluator, publisher]) expect(s.child.exitCode).toBeNull();
    } finally {
      await redis.stop();
    }
  });

  it('schema registry down: ingest reports not ready while it retries, then resumes with nothing lost or dead-lettered', async () => {
    const proxy = await startRegistryProxy(env.schemaRegistryUrl);
    try {
      const p = await pipeline('res-registry');
      const ingest = await start(p, 'ingest', { SCHEMA_REGISTRY_URL: proxy.url });
      proxy.setDown(true);
      // A Confluent-framed raw event needs its writer schema from the registry: ingest must wait, not dead-letter.
      const schema: AvroRecordSchema = {
        type: 'record',
        name: 'ResilienceClick',
        namespace: 'com.example.resilience',
        fields: ['eventId', 'customerId', 'campaignId', 'emailId', 'linkId'].map((name) => ({ name, type: 'string' })).concat([{ name: 'occurredAt', type: 'long' }]),
      };
      const id = await registry.register(`${p.topics.TOPIC_RAW_EMAIL_CLICKS}-value`, schema as object);
      const encode = registry.encoder<Record<string, unknown>>(id, typeForSchema(schema));
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: p.topics.TOPIC_RAW_EMAIL_CLICKS!, acks: -1, messages: [
        { key: 'c-1', value: encode({ eventId: `${p.prefix}-avro`, customerId: 'c-000001', occurredAt: Date.now() - 1000, campaignId: 'cmp', emailId: 'm', linkId: '/x' }) },
        { key: 'c-1', value: Buffer.from(JSON.stringify({ eventId: `${p.prefix}-json`, customerId: 'c-000001', occurredAt: Date.now() - 500, campaignId: 'cmp', emailId: 'm2', url: 'https://shop.example/y' })) },
      ] });
      await producer.disconnect();
      const ready = async () => (await fetch(`http://127.0.0.1:${ingest.port}/readyz`)).status;
      await waitFor('ingest to report not ready while retrying', async () => (await ready()) === 503 && proxy.refused() >= 2, { timeoutMs: 60_000, intervalMs: 200 });
      expect(await groupLag(admin, p.groups.ingest, p.raw)).toBe(2); // nothing committed
      proxy.setDown(false);
      await waitFor('ingest ready again and caught up', async () => (await ready()) === 200 && (await groupLag(admin, p.groups.ingest, p.raw)) === 0, { timeoutMs: 90_000, intervalMs: 500 });
      const out = await readTopic(kafka, p.topics.TOPIC_CUSTOMER_EVENTS!);
      const ids = await Promise.all(out.map(async (r) => (await registry.decode<CustomerEvent>(r.value, customerEventType)).eventId));
      expect(ids).toEqual([`${p.prefix}-avro`, `${p.prefix}-json`]);
      expect(await readTopic(kafka, p.topics.TOPIC_DLQ!)).toHaveLength(0);
      expect(ingest.child.exitCode).toBeNull();
    } finally {
      await proxy.close();
    }
  });

  it('a backlog on one partition: the output of each batch goes out in requests that fit, and nothing stalls', async () => {
    // 40 000 events on single partitions: ingest's and the evaluator's batches produce several
    // MiB each, more than one produce request may carry (MESSAGE_TOO_LARGE is not retriable).
    const p = await pipeline('res-onepart', env.redisUrl, 1);
    const producer = kafka.producer();
    await producer.connect();
    await produceRaw(producer, p, 0, 40_000, 200);
    await producer.disconnect();
    const services = [await start(p, 'ingest'), await start(p, 'evaluator'), await start(p, 'publisher')];
    await drained(p, 180_000);
    const { expected } = await expectExactlyTheOracle(p);
    expect(expected).toBeGreaterThan(10_000);
    for (const s of services) expect(s.child.exitCode).toBeNull();
  });

  it('a backlog of 200 000 events: ingest and evaluator memory stays bounded while they work through it', async () => {
    const p = await pipeline('res-backlog', env.redisUrl, 6);
    const rss = async (s: RunningService) => metricSum(await s.metrics(), 'labelstream_process_resident_memory_bytes') / 2 ** 20;
    // As in a container with a memory limit: a heap that buffered the backlog would run out.
    const limit = { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` };
    // Idle footprints first, then the backlog piles up while ingest is away.
    let ingest = await start(p, 'ingest', limit);
    const evaluator = await start(p, 'evaluator', limit);
    // Idle = once start-up is over: two samples 500 ms apart within 2 MiB of each other.
    let previous: { ingest: number; evaluator: number } | undefined;
    const idle = await waitFor(
      'idle footprints to settle',
      async () => {
        const now = { ingest: await rss(ingest), evaluator: await rss(evaluator) };
        const settled = previous && Math.abs(now.ingest - previous.ingest) < 2 && Math.abs(now.evaluator - previous.evaluator) < 2;
        previous = now;
        return settled ? now : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, lastSeen: () => previous },
    );
    await terminate(ingest);
    const producer = kafka.producer();
    await producer.connect();
    await produceRaw(producer, p, 0, 200_000, 5000);
    await producer.disconnect();
    ingest = await start(p, 'ingest', limit);
    const peak = { ingest: 0, evaluator: 0 };
    const heap = { ingest: 0, evaluator: 0 };
    const heapUsed = async (s: RunningService) => metricSum(await s.metrics(), 'labelstream_nodejs_heap_size_used_bytes') / 2 ** 20;
    let lag = { ingest: 1, evaluator: 1 };
    let sampledWhileBehind = 0;
    await waitFor(
      'ingest and the evaluator to work through the backlog',
      async () => {
        peak.ingest = Math.max(peak.ingest, await rss(ingest));
        peak.evaluator = Math.max(peak.evaluator, await rss(evaluator));
        heap.ingest = Math.max(heap.ingest, await heapUsed(ingest));
        heap.evaluator = Math.max(heap.evaluator, await heapUsed(evaluator));
        lag = { ingest: await groupLag(admin, p.groups.ingest, p.raw), evaluator: await groupLag(admin, p.groups.evaluator, [p.topics.TOPIC_CUSTOMER_EVENTS!]) };
        if (lag.ingest + lag.evaluator > 50_000) sampledWhileBehind++;
        return lag.ingest === 0 && lag.evaluator === 0;
      },
      { timeoutMs: 360_000, intervalMs: 1000, lastSeen: () => ({ lag, peak, exits: [ingest.child.exitCode, evaluator.child.exitCode], evaluator: evaluator.output().slice(-1500) }) },
    );
    console.log(`backlog of 200 000 events: RSS (MiB) idle ${JSON.stringify(idle)}, peak ${JSON.stringify(peak)}; peak heap used ${JSON.stringify(heap)}; samples behind ${sampledWhileBehind}`);
    expect(sampledWhileBehind).toBeGreaterThan(3); // the bound was observed under a real backlog
    // Fetches are bounded (32 MiB per fetch, 4 MiB per partition, 6 partitions at a time): what a
    // batch holds decoded is bounded too, whatever the backlog behind it.
    expect(peak.ingest).toBeLessThan(idle.ingest + BACKLOG_RSS_MIB);
    expect(peak.evaluator).toBeLessThan(idle.evaluator + BACKLOG_RSS_MIB);
    for (const s of [ingest, evaluator]) expect(s.child.exitCode).toBeNull(); // no out-of-memory exit
  });
});

/** More raw input while the test is already running. */
async function produceRawLater(p: Pipeline, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await produceRaw(producer, p, from, count, 300);
  await producer.disconnect();
}
