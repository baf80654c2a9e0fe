/**
 * End to end on the real stack: raw JSON into the storefront topics, the three built
 * services as real processes, public label events out. Asserts the exact sequence of
 * label events per customer (including a time-based removal with no new event), the
 * compacted current-labels topic, the DLQ, and that the services' metrics moved.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { customerLabelsType, labelEventType, type CustomerLabels, type LabelEvent } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { collect, connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { metricSum, pipelineTopics, startService, type RunningService } from '../support/services';

const RULES = `
version: "e2e-1"
allowedLateness: 10m
features:
  spend_1h:        { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders_lifetime: { event: purchase, agg: count, window: lifetime }
  clicks_3s:       { event: email_click, agg: count, window: 3s, bucket: 1s }
labels:
  high_value:
    description: "Spent at least 100.00 in the last hour."
    category: value
    enter: "spend_1h >= 10000"
    exit: "spend_1h < 8000"
  customer:
    description: "Bought at least once."
    category: lifecycle
    when: "orders_lifetime >= 1"
  engaged:
    description: "Two clicks within 3 seconds."
    category: behaviour
    when: "clicks_3s >= 2"
`;

let env: StackEnv;
const services: RunningService[] = [];

beforeAll(async () => {
  env = await connectStack();
  execFileSync('npx', ['tsc', '-b', 'services/ingest', 'services/evaluator', 'services/publisher'], { cwd: join(__dirname, '..', '..'), stdio: 'inherit' });
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
});

function sequence(events: LabelEvent[], customerId: string): string[] {
  return events.filter((e) => e.customerId === customerId).map((e) => `${e.type === 'LABEL_ASSIGNED' ? '+' : '-'}${e.label}`);
}

describe('pipeline end to end', () => {
  it('turns raw storefront events into the exact public label events, on time, observably', async () => {
    const p = uniqueName('e2e');
    const topics = pipelineTopics(p);
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [
      ...[topics.TOPIC_RAW_PURCHASES, topics.TOPIC_RAW_EMAIL_CLICKS, topics.TOPIC_RAW_SUPPORT_TICKETS, topics.TOPIC_DLQ].map((topic) => ({ topic, partitions: 2 })),
      ...[topics.TOPIC_CUSTOMER_EVENTS, topics.TOPIC_DECISIONS, topics.TOPIC_LABEL_EVENTS].map((topic) => ({ topic, partitions: 3 })),
      { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: 3, config: { 'cleanup.policy': 'compact' } },
    ]);
    await admin.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'labelstream-e2e-'));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES);
    const common = {
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      LOG_LEVEL: 'warn',
      TOPIC_PARTITIONS: '3',
      SHUTDOWN_TIMEOUT: '5s',
      ...topics,
    };
    services.push(
      await startService('ingest', { ...common, INGEST_GROUP_ID: `${p}-ingest` }),
      await startService('evaluator', { ...common, EVALUATOR_GROUP_ID: `${p}-evaluator`, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: p.replace(/[^a-z0-9_-]/g, '').slice(0, 32), RULES_FILE: rulesFile, EVALUATOR_TIMER_POLL: '100ms', ADMIN_TOKEN: 'e2e-admin-token-0123456789' }),
      await startService('publisher', { ...common, PUBLISHER_GROUP_ID: `${p}-publisher` }),
    );
    const [ingest, evaluator, publisher] = services as [RunningService, RunningService, RunningService];

    const out = await collect(kafka, [topics.TOPIC_LABEL_EVENTS]);
    const current = await collect(kafka, [topics.TOPIC_CUSTOMER_LABELS]);
    const dlq = await collect(kafka, [topics.TOPIC_DLQ]);
    try {
      const producer = kafka.producer();
      await producer.connect();
      const now = Date.now();
      const json = (o: object) => Buffer.from(JSON.stringify(o));
      await producer.send({
        topic: topics.TOPIC_RAW_PURCHASES,
        messages: [
          { key: 'o-1', value: json({ eventId: `${p}-1`, customerId: 'e2e-a', occurredAt: new Date(now - 2000).toISOString(), orderId: 'o-1', amountMinor: 12000, currency: 'EUR', items: [{ sku: 's1', category: 'outdoor', quantity: 1, unitPriceMinor: 12000 }], channel: 'web', email: 'canary@example.org' }) },
          { key: 'o-2', value: Buffer.from('{"eventId": "broken json') },
        ],
      });
      await producer.send({
        topic: topics.TOPIC_RAW_EMAIL_CLICKS,
        messages: [
          { key: 'em-1', value: json({ eventId: `${p}-2`, customerId: 'e2e-b', occurredAt: now, campaignId: 'cmp', emailId: 'em-1', url: 'https://shop.example/sale?token=secret' }) },
          { key: 'em-2', value: json({ eventId: `${p}-3`, customerId: 'e2e-b', occurredAt: now + 5, campaignId: 'cmp', emailId: 'em-2', url: 'https://shop.example/sale' }) },
        ],
      });
      await producer.disconnect();

      const registry = new Registry({ url: env.schemaRegistryUrl });
      const decodeAll = async () => Promise.all(out.messages.map((m) => registry.decode<LabelEvent>(m.value, labelEventType)));
      const events = await waitFor(
        'four public label events, the last a time-based removal',
        async () => {
          const all = await decodeAll();
          return all.length >= 4 && sequence(all, 'e2e-b').length >= 2 ? all : undefined;
        },
        { timeoutMs: 60_000, lastSeen: () => out.messages.length },
      );
      expect(sequence(events, 'e2e-a')).toEqual(['+high_value', '+customer']);
      expect(sequence(events, 'e2e-b')).toEqual(['+engaged', '-engaged']);
      const removal = events.find((e) => e.customerId === 'e2e-b' && e.type === 'LABEL_REMOVED')!;
      expect(removal.causeEventId).toBeNull(); // time-based: no new event caused it
      expect(removal.features).toEqual({ clicks_3s: 0 });
      // Removed on time: the clicks leave the 3 s window (1 s buckets) at most ~1 s late, plus polling.
      expect(removal.publishedAt - (now + 5)).toBeLessThan(3000 + 1000 + 2000);
      const hv = events.find((e) => e.label === 'high_value')!;
      expect(hv).toMatchObject({ category: 'value', rulesVersion: 'e2e-1', causeEventId: `${p}-1`, features: { spend_1h: 12000 } });
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
      const keyed = await Promise.all(out.messages.map(async (m) => [m.key?.toString(), (await registry.decode<LabelEvent>(m.value, labelEventType)).customerId]));
      expect(keyed.every(([key, customer]) => key === customer)).toBe(true); // keyed by customer

      // Compacted current labels: e2e-a holds both, e2e-b ends with none (an empty set).
      const latest = await waitFor('current labels of both customers', async () => {
        const recs = await Promise.all(current.messages.map((m) => registry.decode<CustomerLabels>(m.value, customerLabelsType)));
        const last = new Map(recs.map((r) => [r.customerId, r]));
        return last.get('e2e-b')?.labels.length === 0 && last.has('e2e-a') ? last : undefined;
      });
      expect(latest.get('e2e-a')!.labels.map((l) => l.label).sort()).toEqual(['customer', 'high_value']);

      // The malformed message went to the DLQ with its reason, untouched.
      const dead = await dlq.waitForCount(1);
      expect(dead[0]!.headers?.['ls-dlq-reason']?.toString()).toBe('MALFORMED_JSON');
      expect(dead[0]!.value?.toString()).toBe('{"eventId": "broken json');

      // The metrics moved in every service.
      const [mi, me, mp] = await Promise.all([ingest.metrics(), evaluator.metrics(), publisher.metrics()]);
      expect(metricSum(mi, 'labelstream_events_consumed_total')).toBeGreaterThanOrEqual(4);
      expect(metricSum(mi, 'labelstream_dlq_total', { reason: 'MALFORMED_JSON' })).toBe(1);
      expect(metricSum(me, 'labelstream_decisions_total', { cause: 'TIMER' })).toBeGreaterThanOrEqual(1);
      expect(metricSum(me, 'labelstream_redis_script_duration_seconds_count')).toBeGreaterThan(0);
      expect(metricSum(mp, 'labelstream_label_changes_total')).toBeGreaterThanOrEqual(4);
      expect(metricSum(mp, 'labelstream_end_to_end_latency_seconds_count')).toBeGreaterThanOrEqual(3); // one per decision
      // Populations come from the evaluator's census in Redis (the publisher exports none).
      expect(metricSum(me, 'labelstream_label_population', { label: 'customer' })).toBe(1);
      expect(metricSum(me, 'labelstream_label_population', { label: 'engaged' })).toBe(0);
      expect(metricSum(mp, 'labelstream_label_population')).toBe(0);
      expect(metricSum(me, 'labelstream_ready')).toBe(1);

      // Explanations through the evaluator's admin endpoint, which refuses requests without the token.
      expect((await fetch(`http://127.0.0.1:${evaluator.port}/admin/customers/e2e-a`)).status).toBe(401);
      const ex = (await (await fetch(`http://127.0.0.1:${evaluator.port}/admin/customers/e2e-a`, { headers: { authorization: 'Bearer e2e-admin-token-0123456789' } })).json()) as { explanation: { features: Record<string, unknown> } };
      expect(ex.explanation.features).toMatchObject({ spend_1h: 12000, orders_lifetime: 1 });

      // The canary personal data never reached a log line of any service.
      for (const s of services) {
        expect(s.output()).not.toContain('canary@example.org');
        expect(s.output()).not.toContain('token=secret');
      }
    } finally {
      await Promise.all([out.stop(), current.stop(), dlq.stop()]);
    }
  });
});

