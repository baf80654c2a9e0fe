/**
 * "Any standard Kafka client works", contract tests with clients the project did not write:
 * the JVM examples (examples/jvm-producer, examples/jvm-label-consumer — Apache kafka-clients
 * and Apache Avro, the Confluent framing written by hand against the registry's ccompat API)
 * talk to the three built services as real processes.
 *
 * - The JVM producer sends Avro (transactional, lz4) and JSON (zstd) purchases; the JVM
 *   consumer (read_committed) decodes the public label events and the compacted current
 *   labels with the writer schema from the registry, resolved against schemas/*.avsc.
 * - `effectiveAt` is the customer's clock: an email click older than the customer's newest
 *   event yields a label event whose `effectiveAt` is that newest event's time, while its
 *   `causeEventId` names the click (schemas/label-event.avsc, docs/label-events.md).
 * - The registry's global BACKWARD rule (set by the stack) refuses an incompatible change to
 *   a brand-new raw subject with 409, without any per-subject configuration.
 *
 * The examples are built by Maven here (`mvn package`, dependencies cached in ~/.m2).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { pipelineTopics, startService, type RunningService } from '../support/services';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const PRODUCER_JAR = join(ROOT, 'examples/jvm-producer/target/jvm-producer.jar');
const CONSUMER_JAR = join(ROOT, 'examples/jvm-label-consumer/target/jvm-label-consumer.jar');
const JVM = ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-Xshare:auto'];

const RULES = `
version: "jvm-1"
allowedLateness: 10m
features:
  spend_1h:        { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders_lifetime: { event: purchase, agg: count, window: lifetime }
  clicks_1h:       { event: email_click, agg: count, window: 1h }
labels:
  high_value:
    description: "Spent at least 100.00 in the last hour."
    category: value
    when: "spend_1h >= 10000"
  customer:
    description: "Bought at least once."
    category: lifecycle
    when: "orders_lifetime >= 1"
  clicker:
    description: "Clicked an email in the last hour."
    category: behaviour
    when: "clicks_1h >= 1"
`;

/** One line the JVM label consumer printed. */
interface ConsumedLine {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  schemaId: number | null;
  value: Record<string, unknown> | null;
}

interface LabelEventLine {
  eventId: string;
  type: 'LABEL_ASSIGNED' | 'LABEL_REMOVED';
  customerId: string;
  label: string;
  category: string;
  effectiveAt: number;
  publishedAt: number;
  rulesVersion: string;
  features: Record<string, unknown>;
  causeEventId: string | null;
  decisionId: string;
}

let env: StackEnv;
beforeAll(async () => {
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'services/ingest', 'services/evaluator', 'services/publisher'], { cwd: ROOT, stdio: 'pipe', timeout: 300_000 });
  // One Maven run builds both examples (the first run on a machine downloads from Central).
  try {
    execFileSync('mvn', ['-B', '-q', '-f', join(ROOT, 'examples/pom.xml'), 'package'], { cwd: ROOT, stdio: 'pipe', timeout: 600_000 });
  } catch (e) {
    // Maven prints its [ERROR] lines on stdout.
    const { stdout, stderr, message } = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`building examples/ with Maven (mvn 3.6+, Java 17+, Maven Central) failed: ${message}\n${String(stdout ?? '').slice(-3000)}${String(stderr ?? '').slice(-2000)}`);
  }
  env = await connectStack();
}, 900_000);

/** Runs the JVM producer with `lines` on stdin; resolves with its exit code and output. */
function jvmProduce(args: string[], lines: object[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...JVM, '-jar', PRODUCER_JAR, '--bootstrap-servers', env.kafkaBrokers.join(','), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  });
}

async function produceOk(args: string[], lines: object[]): Promise<Array<{ topic: string; partition: number; offset: number; schemaId?: number }>> {
  const r = await jvmProduce(args, lines);
  if (r.code !== 0) throw new Error(`jvm-producer exited ${r.code}: ${r.stderr.slice(-3000)}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { topic: string; partition: number; offset: number; schemaId?: number });
}

/** Starts the JVM label consumer; its JSON lines are collected until `stop()`. */
function startJvmConsumer(args: string[]): { lines: ConsumedLine[]; output: () => string; stop: () => Promise<number | null>; child: ChildProcess } {
  const lines: ConsumedLine[] = [];
  let partial = '';
  let err = '';
  const child = spawn('java', [...JVM, '-jar', CONSUMER_JAR, '--bootstrap-servers', env.kafkaBrokers.join(','), '--registry-url', env.schemaRegistryUrl, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as ConsumedLine);
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    lines,
    child,
    output: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await closed;
      clearTimeout(t);
      return code;
    },
  };
}

const labelEvents = (lines: ConsumedLine[], topic: string) => lines.filter((l) => l.topic === topic).map((l) => l.value as unknown as LabelEventLine);
const seq = (events: LabelEventLine[], customerId: string) => events.filter((e) => e.customerId === customerId).map((e) => `${e.type === 'LABEL_ASSIGNED' ? '+' : '-'}${e.label}`);

describe('JVM clients the project did not write', () => {
  const services: RunningService[] = [];
  const ownTopics: string[] = [];
  let consumer: ReturnType<typeof startJvmConsumer> | undefined;
  afterAll(async () => {
    await consumer?.stop();
    await Promise.all(services.map((s) => s.stop()));
    if (ownTopics.length === 0) return;
    const admin = testKafka(env, 'jvm-clients-itest').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: ownTopics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('a JVM producer’s Avro and JSON purchases are labelled, and a JVM consumer decodes the label events and current labels against schemas/*.avsc', async () => {
    const p = uniqueName('jvm');
    const topics = pipelineTopics(p);
    ownTopics.push(...Object.values(topics));
    const kafka = testKafka(env, 'jvm-clients-itest');
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [
      ...[topics.TOPIC_RAW_PURCHASES, topics.TOPIC_RAW_EMAIL_CLICKS, topics.TOPIC_RAW_SUPPORT_TICKETS, topics.TOPIC_DLQ].map((topic) => ({ topic, partitions: 2 })),
      ...[topics.TOPIC_CUSTOMER_EVENTS, topics.TOPIC_DECISIONS, topics.TOPIC_LABEL_EVENTS].map((topic) => ({ topic, partitions: 3 })),
      { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: 3, config: { 'cleanup.policy': 'compact' } },
    ]);
    const rulesFile = join(mkdtempSync(join(tmpdir(), 'labelstream-jvm-')), 'rules.yaml');
    writeFileSync(rulesFile, RULES);
    const common = { KAFKA_BROKERS: env.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: env.schemaRegistryUrl, LOG_LEVEL: 'warn', TOPIC_PARTITIONS: '3', SHUTDOWN_TIMEOUT: '5s', ...topics };
    try {
      services.push(
        await startService('ingest', { ...common, INGEST_GROUP_ID: `${p}-ingest` }),
        await startService('evaluator', { ...common, EVALUATOR_GROUP_ID: `${p}-evaluator`, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: p.replace(/[^a-z0-9_-]/g, '').slice(0, 32), RULES_FILE: rulesFile, EVALUATOR_TIMER_POLL: '100ms' }),
        await startService('publisher', { ...common, PUBLISHER_GROUP_ID: `${p}-publisher` }),
      );
      consumer = startJvmConsumer([
        '--group-id', `${p}-jvm-consumer`,
        '--topics', `${topics.TOPIC_LABEL_EVENTS}=${join(ROOT, 'schemas/label-event.avsc')},${topics.TOPIC_CUSTOMER_LABELS}=${join(ROOT, 'schemas/customer-labels.avsc')}`,
      ]);
      const c = consumer;
      const now = Date.now();
      const purchase = (eventId: string, customerId: string, amountMinor: number, occurredAt: number) => ({
        eventId, customerId, occurredAt, orderId: `ord-${eventId}`, amountMinor, currency: 'EUR',
        items: [{ sku: 'SKU-1', category: 'shoes', quantity: 1, unitPriceMinor: amountMinor }], channel: 'web',
      });

      // Avro, in a Kafka transaction, lz4-compressed: 120.00 EUR makes jvm-a high-value.
      const avro = await produceOk(['--topic', topics.TOPIC_RAW_PURCHASES, '--format', 'avro', '--registry-url', env.schemaRegistryUrl, '--compression', 'lz4', '--transactional-id', `${p}-tx`], [purchase(`${p}-a1`, 'jvm-a', 12000, now - 60_000)]);
      expect(avro).toEqual([expect.objectContaining({ topic: topics.TOPIC_RAW_PURCHASES, schemaId: expect.any(Number) })]);
      // Plain JSON, zstd-compressed: 5.00 EUR, a customer but not high-value.
      await produceOk(['--topic', topics.TOPIC_RAW_PURCHASES, '--format', 'json', '--compression', 'zstd'], [purchase(`${p}-b1`, 'jvm-b', 500, now - 60_000)]);

      await waitFor('the JVM consumer to print the label events of jvm-a and jvm-b', () => seq(labelEvents(c.lines, topics.TOPIC_LABEL_EVENTS), 'jvm-a').length >= 2 && seq(labelEvents(c.lines, topics.TOPIC_LABEL_EVENTS), 'jvm-b').length >= 1, {
        timeoutMs: 60_000,
        lastSeen: () => ({ lines: c.lines.length, stderr: c.output().slice(-1000) }),
      });
      const events = labelEvents(c.lines, topics.TOPIC_LABEL_EVENTS);
      expect(seq(events, 'jvm-a')).toEqual(['+high_value', '+customer']);
      expect(seq(events, 'jvm-b')).toEqual(['+customer']);
      expect(events.find((e) => e.label === 'high_value')).toMatchObject({ category: 'value', rulesVersion: 'jvm-1', causeEventId: `${p}-a1`, effectiveAt: now - 60_000, features: { spend_1h: 12000 } });
      for (const l of c.lines.filter((x) => x.topic === topics.TOPIC_LABEL_EVENTS)) {
        expect(l.key).toBe((l.value as unknown as LabelEventLine).customerId); // keyed by customer
        expect(l.schemaId).toEqual(expect.any(Number)); // Confluent framing, writer schema from the registry
      }

      // The compacted current-labels topic, read by the same consumer.
      const current = await waitFor('current labels of jvm-a and jvm-b', () => {
        const last = new Map(c.lines.filter((l) => l.topic === topics.TOPIC_CUSTOMER_LABELS && l.value).map((l) => [l.key, l.value as { customerId: string; labels: Array<{ label: string }> }]));
        return last.get('jvm-a')?.labels.length === 2 && last.has('jvm-b') ? last : undefined;
      });
      expect(current.get('jvm-a')!.labels.map((l) => l.label).sort()).toEqual(['customer', 'high_value']);
      expect(current.get('jvm-b')!.labels.map((l) => l.label)).toEqual(['customer']);

      // effectiveAt is the customer's clock. jvm-c's newest event is a purchase at t1; a click
      // from 5 minutes earlier arrives afterwards on another raw topic (within the lateness).
      const t1 = now - 30_000;
      const t0 = t1 - 5 * 60_000;
      await produceOk(['--topic', topics.TOPIC_RAW_PURCHASES, '--format', 'json'], [purchase(`${p}-c1`, 'jvm-c', 500, t1)]);
      await waitFor('jvm-c to become a customer', () => seq(labelEvents(c.lines, topics.TOPIC_LABEL_EVENTS), 'jvm-c').includes('+customer'), { timeoutMs: 60_000 });
      await produceOk(['--topic', topics.TOPIC_RAW_EMAIL_CLICKS, '--format', 'json'], [{ eventId: `${p}-c0`, customerId: 'jvm-c', occurredAt: t0, campaignId: 'cmp', emailId: 'em-1', linkId: 'sale' }]);
      const clicker = await waitFor('jvm-c’s clicker label', () => labelEvents(c.lines, topics.TOPIC_LABEL_EVENTS).find((e) => e.customerId === 'jvm-c' && e.label === 'clicker'), { timeoutMs: 60_000 });
      expect(clicker).toMatchObject({ type: 'LABEL_ASSIGNED', causeEventId: `${p}-c0`, effectiveAt: t1, features: { clicks_1h: 1 } });
      expect(clicker.effectiveAt).not.toBe(t0); // not the time of the event that caused it

      expect(consumer.child.exitCode).toBeNull();
      expect(consumer.output()).not.toMatch(/\bERROR\b|Exception in thread/);
    } finally {
      await admin.disconnect();
    }
  });

  it('the registry’s global BACKWARD rule refuses an incompatible schema for a new raw subject with 409, no per-subject PUT needed', async () => {
    const global = (await (await fetch(`${env.schemaRegistryUrl}/config`)).json()) as { compatibilityLevel?: string; compatibility?: string };
    if ((global.compatibilityLevel ?? global.compatibility) !== 'BACKWARD') {
      throw new Error(`the registry has no global BACKWARD rule (${JSON.stringify(global)}): deploy/local/stack.sh up sets it (REGISTRY_COMPATIBILITY)`);
    }
    const topic = uniqueName('jvm-compat.purchases');
    ownTopics.push(topic);
    const v1 = join(ROOT, 'examples/jvm-producer/src/main/resources/storefront-purchase.avsc');
    const first = await jvmProduce(['--topic', topic, '--format', 'avro', '--registry-url', env.schemaRegistryUrl, '--schema', v1], []);
    expect(first).toMatchObject({ code: 0 });
    // A new required field without a default: readers of v2 cannot read v1 data.
    const schema = JSON.parse(readFileSync(v1, 'utf8')) as { fields: object[] };
    schema.fields.push({ name: 'loyaltyTier', type: 'string' });
    const v2 = join(mkdtempSync(join(tmpdir(), 'labelstream-jvm-')), 'purchase-v2.avsc');
    writeFileSync(v2, JSON.stringify(schema));
    const second = await jvmProduce(['--topic', topic, '--format', 'avro', '--registry-url', env.schemaRegistryUrl, '--schema', v2], []);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/HTTP 409/);
    // A compatible change (the same field, optional with a default) is accepted.
    schema.fields[schema.fields.length - 1] = { name: 'loyaltyTier', type: ['null', 'string'], default: null };
    writeFileSync(v2, JSON.stringify(schema));
    expect(await jvmProduce(['--topic', topic, '--format', 'avro', '--registry-url', env.schemaRegistryUrl, '--schema', v2], [])).toMatchObject({ code: 0 });
    const versions = (await (await fetch(`${env.schemaRegistryUrl}/subjects/${encodeURIComponent(`${topic}-value`)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);
  });
});
