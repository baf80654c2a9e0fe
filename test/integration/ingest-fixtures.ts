/**
 * Helpers shared by the ingest integration tests: per-test topic names, raw events of each
 * kind, the ingest service run in-process (createIngest + the real consumer runner) or as
 * the built service in a child process.
 */
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { customerEventType, DLQ_HEADERS, type CustomerEvent } from '@labelstream/contracts';
import { DEFAULT_FX_RATES_TO_EUR } from '@labelstream/config';
import { compileIngestPolicy } from '@labelstream/ingest-core';
import { createConsumerRunner, createKafka, createProducer, Registry } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import { createTestTopics, spawnService, testKafka, uniqueName, type ServiceProcess, type StackEnv } from '@labelstream/testkit';
import { createIngest, type Ingest } from '../../services/ingest/src/ingest';

export const REPO_ROOT = join(__dirname, '..', '..');
export type { ServiceProcess };
export type TestKafka = ReturnType<typeof testKafka>;
type Admin = ReturnType<TestKafka['admin']>;

/** One test's topics. */
export interface IngestTestTopics {
  raw: { purchases: string; emailClicks: string; supportTickets: string };
  customerEvents: string;
  dlq: string;
}

export function ingestTopicNames(prefix: string): IngestTestTopics {
  const base = uniqueName(prefix);
  return {
    raw: { purchases: `${base}.purchases`, emailClicks: `${base}.email-clicks`, supportTickets: `${base}.support-tickets` },
    customerEvents: `${base}.customer-events`,
    dlq: `${base}.dlq`,
  };
}

export async function createIngestTopics(admin: Admin, t: IngestTestTopics, partitions: { raw: number; out: number }): Promise<void> {
  await createTestTopics(admin, [
    { topic: t.raw.purchases, partitions: partitions.raw },
    { topic: t.raw.emailClicks, partitions: partitions.raw },
    { topic: t.raw.supportTickets, partitions: partitions.raw },
    { topic: t.customerEvents, partitions: partitions.out },
    { topic: t.dlq, partitions: 1 },
  ]);
}

export async function deleteIngestTopics(admin: Admin, t: IngestTestTopics): Promise<void> {
  await admin.deleteTopics({ topics: [t.raw.purchases, t.raw.emailClicks, t.raw.supportTickets, t.customerEvents, t.dlq] }).catch(() => undefined);
}

/** Header value of a consumed record as a string. */
export function header(m: { headers?: Record<string, unknown> }, name: string): string | undefined {
  const v = m.headers?.[name];
  return v === undefined || v === null ? undefined : String(v);
}

export const dlqHeader = {
  reason: (m: { headers?: Record<string, unknown> }) => header(m, DLQ_HEADERS.reason),
  sourceTopic: (m: { headers?: Record<string, unknown> }) => header(m, DLQ_HEADERS.sourceTopic),
  sourcePartition: (m: { headers?: Record<string, unknown> }) => header(m, DLQ_HEADERS.sourcePartition),
  sourceOffset: (m: { headers?: Record<string, unknown> }) => header(m, DLQ_HEADERS.sourceOffset),
  path: (m: { headers?: Record<string, unknown> }) => header(m, DLQ_HEADERS.path),
};

/** Decodes a canonical record: Confluent framing checked, body read with the CustomerEvent type. */
export async function decodeCanonical(registry: Registry, value: Buffer | null): Promise<CustomerEvent> {
  return registry.decode<CustomerEvent>(value, customerEventType);
}

// ── raw events ──────────────────────────────────────────────────────────────────────────

export function rawPurchase(eventId: string, customerId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId,
    customerId,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    orderId: `ord-${eventId}`,
    amountMinor: 1000,
    currency: 'EUR',
    items: [{ sku: 'SKU-1', category: 'shoes', quantity: 1, unitPriceMinor: 1000 }],
    channel: 'web',
    ...extra,
  };
}

export function rawClick(eventId: string, customerId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId, customerId, occurredAt: Date.now() - 60_000, campaignId: 'spring', emailId: 'msg-1', linkId: 'hero', ...extra };
}

export function rawTicket(eventId: string, customerId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId, customerId, occurredAt: new Date(Date.now() - 60_000).toISOString(), ticketId: `t-${eventId}`, status: 'opened', ...extra };
}

export const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

// ── ingest in-process ───────────────────────────────────────────────────────────────────

export interface InProcessIngest {
  ingest: Ingest;
  groupId: string;
  isReady: () => boolean;
  stop: () => Promise<void>;
}

/**
 * createIngest wired to the real consumer runner, producer and registry — what main.ts
 * does, minus the environment — with the demo EUR rate table from the config package.
 */
export async function startInProcessIngest(
  env: StackEnv,
  topics: IngestTestTopics,
  opts: { maxMessageBytes?: number; registryUrl?: string; dlqMaxRecordBytes?: number } = {},
): Promise<InProcessIngest> {
  const logger = createLogger({ service: 'ingest-itest', level: 'error' });
  const metrics = createMetrics('ingest-itest', { defaultMetrics: false });
  const kafka = createKafka({ brokers: env.kafkaBrokers, clientId: 'ingest-itest' }, logger);
  const registry = new Registry({ url: opts.registryUrl ?? env.schemaRegistryUrl });
  const producer = createProducer(kafka);
  await producer.connect();
  const ingest = createIngest({
    registry,
    producer,
    policy: compileIngestPolicy({ baseCurrency: 'EUR', fxRatesToBase: DEFAULT_FX_RATES_TO_EUR, maxMessageBytes: opts.maxMessageBytes ?? 1_000_000 }),
    topics,
    logger,
    metrics,
    ...(opts.dlqMaxRecordBytes ? { dlqMaxRecordBytes: opts.dlqMaxRecordBytes } : {}),
  });
  await ingest.init();
  const groupId = uniqueName('it-ingest');
  const runner = createConsumerRunner({ kafka, groupId, topics: [...ingest.rawTopics], handler: ingest.handleBatch, logger, metrics, shutdownTimeoutMs: 5000 });
  await runner.start();
  return {
    ingest,
    groupId,
    isReady: () => runner.isReady(),
    stop: async () => {
      await runner.stop();
      await producer.disconnect();
    },
  };
}

/**
 * An HTTP proxy in front of the schema registry that can play an outage (503 for every
 * request) without touching the real registry, which other tests share.
 */
export async function startRegistryProxy(target: string): Promise<{ url: string; setDown: (down: boolean) => void; refused: () => number; close: () => Promise<void> }> {
  let down = false;
  let refused = 0;
  const server = createHttpServer((req, res) => {
    if (down) {
      refused++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error_code":50300,"message":"outage (test)"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      fetch(target.replace(/\/$/, '') + (req.url ?? '/'), { method: req.method, headers, body })
        .then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    setDown: (d) => void (down = d),
    refused: () => refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ── ingest as a child process ───────────────────────────────────────────────────────────


/** Starts the built ingest service (`services/ingest/dist/main.js`) against the test's topics; `waitReady()` awaits /readyz. */
export function startIngestProcess(env: StackEnv, topics: IngestTestTopics, groupId: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
  return spawnService('ingest', {
    waitReady: false,
    env: {
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      TOPIC_RAW_PURCHASES: topics.raw.purchases,
      TOPIC_RAW_EMAIL_CLICKS: topics.raw.emailClicks,
      TOPIC_RAW_SUPPORT_TICKETS: topics.raw.supportTickets,
      TOPIC_CUSTOMER_EVENTS: topics.customerEvents,
      TOPIC_DLQ: topics.dlq,
      INGEST_GROUP_ID: groupId,
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  });
}

/**
 * Produces `count` events round-robin over the three raw topics, in chunks, keyed
 * arbitrarily. `beforeChunk` (given how many were sent) may hold the stream back, e.g.
 * until the output has caught up, so a test can act while events are still flowing.
 */
export async function produceStream(
  kafka: TestKafka,
  topics: IngestTestTopics,
  count: number,
  opts: { chunk?: number; customers?: number; idPrefix?: string; beforeChunk?: (sent: number) => Promise<boolean | void> } = {},
): Promise<string[]> {
  const chunk = opts.chunk ?? 100;
  const customers = opts.customers ?? 200;
  const prefix = opts.idPrefix ?? 'ev';
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const ids: string[] = [];
  try {
    for (let start = 0; start < count; start += chunk) {
      if ((await opts.beforeChunk?.(start)) === false) break;
      const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const eventId = `${prefix}-${i}`;
        const customerId = `cust-${i % customers}`;
        const which = i % 3;
        const topic = which === 0 ? topics.raw.purchases : which === 1 ? topics.raw.emailClicks : topics.raw.supportTickets;
        const value = which === 0 ? rawPurchase(eventId, customerId) : which === 1 ? rawClick(eventId, customerId) : rawTicket(eventId, customerId);
        const list = byTopic.get(topic) ?? [];
        list.push({ key: `raw-${i}`, value: json(value) });
        byTopic.set(topic, list);
        ids.push(eventId);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  } finally {
    await producer.disconnect();
  }
  return ids;
}
