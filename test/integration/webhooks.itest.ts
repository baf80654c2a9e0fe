/**
 * Webhook delivery against local HTTP receivers, with the publisher and the dispatchers
 * in-process on the real stack: a healthy receiver gets every label event, correctly
 * signed, in per-customer order; one answering 500 sees the configured retries and then
 * the destination's dead-letter topic; one answering 410 is dead-lettered at once; one
 * that never answers holds back neither the Kafka outputs nor the other destinations.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { DLQ_HEADERS, labelEventType, type LabelEvent } from '@labelstream/contracts';
import { createKafka, createProducer, Registry } from '@labelstream/kafka';
import {
  compileWebhookDestinations,
  PUBLIC_HEADERS,
  verifySignature,
  WEBHOOK_DLQ_HEADERS,
  WEBHOOK_DLQ_REASONS,
  WEBHOOK_HEADERS,
  type WebhookDestination,
} from '@labelstream/publishing';
import { connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { createPublisher, createWebhookDispatcher, type WebhookDispatcher } from '../../services/publisher/src';
import {
  createDecisionTopics,
  decodeAll,
  DecisionWriter,
  FakeEvaluator,
  header,
  readTopic,
  testLogger,
  testMetrics,
  testTopics,
  waitForCaughtUp,
} from '../../services/publisher/test-support';
import { metricValue } from '../../services/publisher/test-support/assertions';

jest.setTimeout(120_000);

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
});

interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
}

/** One local server; the path picks the behaviour. */
async function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at: Date.now() };
      received.push(r);
      if (r.path === '/ok') {
        const v = verifySignature({ secret: SECRETS.ok, body: r.body, timestamp: req.headers[WEBHOOK_HEADERS.timestamp] as string, signature: req.headers[WEBHOOK_HEADERS.signature] as string });
        res.writeHead(v.ok ? 204 : 401).end();
      } else if (r.path === '/fail') res.writeHead(500).end('boom');
      else if (r.path === '/gone') res.writeHead(410).end();
      // '/hang': never answers
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received, server };
}

const SECRETS = { ok: 'ok-secret-0123456789', fail: 'fail-secret', gone: 'gone-secret', hang: 'hang-secret' };

describe('webhooks', () => {
  it('signs, orders, retries, dead-letters, and never lets a dead receiver delay anything else', async () => {
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    const registry = new Registry({ url: env.schemaRegistryUrl });
    const topics = testTopics('it-hooks');
    const partitions = 2;
    await createDecisionTopics(admin, topics, partitions);
    const writer = new DecisionWriter(kafka, registry, topics.decisions);
    await writer.connect();
    const receiver = await startReceiver();
    const logger = testLogger();
    const metrics = testMetrics();
    const svcKafka = createKafka({ brokers: env.kafkaBrokers, clientId: 'webhooks-itest' }, logger);
    const groupId = `${topics.decisions}-publisher`;
    const publisher = createPublisher({ kafka: svcKafka, registry, logger, metrics, topics, groupId, topicDefaults: { partitions, replicationFactor: 1 }, shutdownTimeoutMs: 5000 });
    const suffix = uniqueName('h').slice(2);
    const [ok, fail, gone, hang] = compileWebhookDestinations([
      { name: `ok-${suffix}`, url: `${receiver.url}/ok`, secretEnv: 'OK_SECRET', concurrency: 2 },
      { name: `fail-${suffix}`, url: `${receiver.url}/fail`, secretEnv: 'FAIL_SECRET', maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 },
      { name: `gone-${suffix}`, url: `${receiver.url}/gone`, secretEnv: 'GONE_SECRET', labels: ['vip'] },
      { name: `hang-${suffix}`, url: `${receiver.url}/hang`, secretEnv: 'HANG_SECRET', timeoutMs: 300, maxAttempts: 100, initialBackoffMs: 10, maxBackoffMs: 20, concurrency: 1 },
    ]) as [WebhookDestination, WebhookDestination, WebhookDestination, WebhookDestination];
    const dlqProducer = createProducer(svcKafka);
    await dlqProducer.connect();
    const dispatchers: WebhookDispatcher[] = [
      [ok, SECRETS.ok],
      [fail, SECRETS.fail],
      [gone, SECRETS.gone],
      [hang, SECRETS.hang],
    ].map(([destination, secret]) =>
      createWebhookDispatcher({
        kafka: svcKafka,
        registry,
        logger,
        metrics,
        producer: dlqProducer,
        topic: topics.labelEvents,
        destination: destination as WebhookDestination,
        secret: secret as string,
        topicDefaults: { partitions, replicationFactor: 1 },
        shutdownTimeoutMs: 3000,
      }),
    );
    try {
      await publisher.start();
      await Promise.all(dispatchers.map((d) => d.start()));
      const evaluator = new FakeEvaluator(partitions, 6, 99);
      const decisions = evaluator.many(40);
      const t0 = Date.now();
      await writer.send(decisions);

      // Kafka outputs first: unaffected by the receiver that never answers.
      await waitForCaughtUp(admin, groupId, topics.decisions);
      const publishedMs = Date.now() - t0;
      const published = await decodeAll<LabelEvent>(registry, await readTopic(kafka, topics.labelEvents), labelEventType);
      const n = published.length;
      expect(n).toBeGreaterThan(40);

      // The healthy receiver: every event, once, signed, in per-customer order.
      await waitForCaughtUp(admin, ok.groupId, topics.labelEvents);
      const okReqs = receiver.received.filter((r) => r.path === '/ok');
      expect(okReqs).toHaveLength(n);
      for (const r of okReqs) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(verifySignature({ secret: SECRETS.ok, body: r.body, timestamp: r.headers[WEBHOOK_HEADERS.timestamp] as string, signature: r.headers[WEBHOOK_HEADERS.signature] as string })).toEqual({ ok: true });
        expect(r.headers[WEBHOOK_HEADERS.signature]).toMatch(/^v1=[0-9a-f]{64}$/);
        expect(r.headers[WEBHOOK_HEADERS.eventId]).toBe((JSON.parse(r.body) as LabelEvent).eventId);
      }
      const inKafkaOrder = new Map<string, string[]>();
      for (const { value } of published) inKafkaOrder.set(value.customerId, [...(inKafkaOrder.get(value.customerId) ?? []), value.eventId]);
      const asReceived = new Map<string, string[]>();
      for (const r of okReqs) {
        const e = JSON.parse(r.body) as LabelEvent;
        asReceived.set(e.customerId, [...(asReceived.get(e.customerId) ?? []), e.eventId]);
      }
      expect(asReceived).toEqual(inKafkaOrder);
      // The payload is the label event as published.
      const first = JSON.parse(okReqs[0]!.body) as LabelEvent;
      expect(first).toEqual(published.find((p) => p.value.eventId === first.eventId)!.value);
      expect(metrics.registry.getSingleMetric('labelstream_webhook_latency_seconds')).toBeDefined();

      // The failing receiver: exactly maxAttempts tries per event, then the dead-letter topic.
      await waitForCaughtUp(admin, fail.groupId, topics.labelEvents);
      const failReqs = receiver.received.filter((r) => r.path === '/fail');
      const attemptsById = new Map<string, string[]>();
      for (const r of failReqs) {
        const id = r.headers[WEBHOOK_HEADERS.eventId] as string;
        attemptsById.set(id, [...(attemptsById.get(id) ?? []), r.headers[WEBHOOK_HEADERS.attempt] as string]);
      }
      expect(attemptsById.size).toBe(n);
      for (const tries of attemptsById.values()) expect(tries).toEqual(['1', '2', '3']);
      const failDlq = await readTopic(kafka, fail.deadLetterTopic);
      expect(failDlq).toHaveLength(n);
      const original = new Map(published.map((p) => [p.value.eventId, p.record]));
      for (const d of failDlq) {
        expect(header(d, DLQ_HEADERS.reason)).toBe(WEBHOOK_DLQ_REASONS.exhausted);
        expect(header(d, WEBHOOK_DLQ_HEADERS.attempts)).toBe('3');
        expect(header(d, WEBHOOK_DLQ_HEADERS.lastStatus)).toBe('500');
        expect(header(d, WEBHOOK_DLQ_HEADERS.destination)).toBe(fail.name);
        const event = await registry.decode<LabelEvent>(d.value, labelEventType);
        const src = original.get(event.eventId)!;
        expect(d.value!.equals(src.value!)).toBe(true); // the original bytes, re-drivable
        expect(d.key!.toString()).toBe(src.key!.toString());
        expect(header(d, PUBLIC_HEADERS.seq)).toBe(header(src, PUBLIC_HEADERS.seq));
      }
      expect(await metricValue(metrics, 'labelstream_webhook_attempts_total', { destination: fail.name, outcome: '5xx' })).toBe(3 * n);
      expect(await metricValue(metrics, 'labelstream_webhook_dead_letters_total', { destination: fail.name })).toBe(n);

      // 410 Gone is not retried; the label filter let only 'vip' events through.
      await waitForCaughtUp(admin, gone.groupId, topics.labelEvents);
      const vip = published.filter((p) => p.value.label === 'vip').length;
      expect(vip).toBeGreaterThan(0);
      const goneReqs = receiver.received.filter((r) => r.path === '/gone');
      expect(goneReqs).toHaveLength(vip);
      const goneDlq = await readTopic(kafka, gone.deadLetterTopic);
      expect(goneDlq.map((d) => [header(d, DLQ_HEADERS.reason), header(d, WEBHOOK_DLQ_HEADERS.attempts), header(d, WEBHOOK_DLQ_HEADERS.lastStatus)])).toEqual(
        Array(vip).fill([WEBHOOK_DLQ_REASONS.rejected, '1', '410']),
      );

      // Meanwhile the receiver that never answers has not got past its first event.
      // Its first attempt may still be waiting out the 300 ms timeout when the checks above end.
      await waitFor('an attempt to /hang to time out', async () => (await metricValue(metrics, 'labelstream_webhook_attempts_total', { destination: hang.name, outcome: 'timeout' })) > 0, { timeoutMs: 10_000 });
      const hangReqs = receiver.received.filter((r) => r.path === '/hang');
      expect(new Set(hangReqs.map((r) => r.headers[WEBHOOK_HEADERS.eventId])).size).toBe(1);
      console.log(`webhooks: ${n} events; Kafka outputs done in ${publishedMs} ms while '/hang' timed out ${hangReqs.length} times`);
    } finally {
      const stopping = Date.now();
      await Promise.allSettled(dispatchers.map((d) => d.stop()));
      // Stopping is bounded even with a request in flight to the dead receiver.
      expect(Date.now() - stopping).toBeLessThan(10_000);
      await publisher.stop();
      await dlqProducer.disconnect();
      receiver.server.closeAllConnections();
      receiver.server.close();
      await writer.disconnect();
      await admin.disconnect();
    }
  });
});
