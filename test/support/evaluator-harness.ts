/**
 * Runs a real evaluator in-process against the real stack, on a test's own topics and
 * Redis key prefix, and lets tests feed canonical events and read decisions back.
 */
import { Writable } from 'node:stream';
import type { Producer } from 'kafkajs';
import { customerEventType, labelDecisionType, subjectFor, type CustomerEvent, type LabelDecision } from '@labelstream/contracts';
import { loadEvaluatorConfig } from '@labelstream/config';
import { composeEvaluator } from '../../services/evaluator/src/compose';
import { Registry } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import type { CompiledRules } from '@labelstream/rules';
import { createTestTopics, testKafka, uniqueName, type StackEnv } from '@labelstream/testkit';

export interface EvaluatorTopics {
  customerEvents: string;
  decisions: string;
  dlq: string;
}

export async function makeTopics(env: StackEnv, partitions = 2): Promise<EvaluatorTopics> {
  const t = { customerEvents: uniqueName('it-ev-in'), decisions: uniqueName('it-ev-dec'), dlq: uniqueName('it-ev-dlq') };
  const admin = testKafka(env).admin();
  await admin.connect();
  await createTestTopics(admin, [
    { topic: t.customerEvents, partitions },
    { topic: t.decisions, partitions },
    { topic: t.dlq, partitions: 1 },
  ]);
  await admin.disconnect();
  return t;
}

const silent = () => new Writable({ write: (_c, _e, cb) => cb() });

/**
 * Starts an evaluator in-process through the service's own composition (composeEvaluator,
 * what main.ts runs), configured as the service reads its environment; `wrapProducer` lets
 * a test inject a fault into its Kafka output. A fatal error is logged and kept in `fatal`
 * (the service would drain and exit 1).
 */
export async function startEvaluator(opts: {
  env: StackEnv;
  topics: EvaluatorTopics;
  rules: CompiledRules;
  groupId: string;
  keyPrefix: string;
  wrapProducer?: (p: Producer) => Producer;
  /** EVALUATOR_MAX_BATCH_EVENTS (default 2000, as in production). */
  maxBatchMessages?: number;
  /** EVALUATOR_STATE_CACHE (default 200 000, as in production). */
  stateCacheCustomers?: number;
  /** Watch the rules channel under `keyPrefix` (`labelstream rules deploy`), read every 100 ms. */
  liveRules?: boolean;
  /** EVALUATOR_SWEEP_RATE (default 2000). */
  sweepRate?: number;
}) {
  const logger = createLogger({ service: 'evaluator-it', level: process.env.IT_LOG_LEVEL ?? 'warn', ...(process.env.IT_LOG_LEVEL ? {} : { destination: silent() }) });
  const metrics = createMetrics('evaluator', { defaultMetrics: false });
  const config = loadEvaluatorConfig({
    KAFKA_BROKERS: opts.env.kafkaBrokers.join(','),
    KAFKA_CLIENT_ID: uniqueName('evaluator-it'),
    SCHEMA_REGISTRY_URL: opts.env.schemaRegistryUrl,
    REDIS_URL: opts.env.redisUrl,
    REDIS_KEY_PREFIX: opts.keyPrefix,
    EVALUATOR_GROUP_ID: opts.groupId,
    TOPIC_CUSTOMER_EVENTS: opts.topics.customerEvents,
    TOPIC_DECISIONS: opts.topics.decisions,
    TOPIC_DLQ: opts.topics.dlq,
    EVALUATOR_TIMER_POLL: '100ms',
    EVALUATOR_MAX_BATCH_EVENTS: String(opts.maxBatchMessages ?? 2000),
    EVALUATOR_STATE_CACHE: String(opts.stateCacheCustomers ?? 200_000),
    // The rules channel under the test's own prefix (empty unless the test deploys).
    EVALUATOR_RULES_POLL: opts.liveRules ? '100ms' : '1s',
    EVALUATOR_SWEEP_RATE: String(opts.sweepRate ?? 2000),
    CONSUMER_SESSION_TIMEOUT: '10s',
    SHUTDOWN_TIMEOUT: '10s',
  });
  const fatal: unknown[] = [];
  const service = await composeEvaluator(config, {
    logger,
    metrics,
    rules: opts.rules,
    hooks: { fatal: (err, message) => (fatal.push(err), logger.error({ err }, message)) },
    ...(opts.wrapProducer ? { wrapProducer: opts.wrapProducer } : {}),
  });
  await service.run();
  return { metrics, redis: service.redis, evaluator: service.evaluator, fatal, stop: () => service.stop() };
}

/** The environment of a built evaluator process (testkit `spawnService`) on the stack and these topics, logging at info; `extra` adds or overrides. */
export function evaluatorProcessEnv(env: StackEnv, topics: EvaluatorTopics, groupId: string, keyPrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: env.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    EVALUATOR_GROUP_ID: groupId,
    TOPIC_CUSTOMER_EVENTS: topics.customerEvents,
    TOPIC_DECISIONS: topics.decisions,
    TOPIC_DLQ: topics.dlq,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Encodes and produces canonical events (key = customerId), in the given order. */
export async function produceEvents(env: StackEnv, topic: string, events: CustomerEvent[]): Promise<void> {
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const id = await registry.register(subjectFor(topic), customerEventType.schema() as object);
  const encode = registry.encoder<CustomerEvent>(id, customerEventType);
  const producer = testKafka(env).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: e.customerId, value: encode(e) })) });
  await producer.disconnect();
}

let n = 0;
const base = (customerId: string, occurredAt: number, eventId?: string) => ({
  eventId: eventId ?? `ev-${Date.now().toString(36)}-${n++}`,
  customerId,
  occurredAt,
  ingestedAt: occurredAt,
  source: { topic: 'test', partition: 0, offset: 0 },
  purchase: null,
  emailClick: null,
  supportTicket: null,
});

export function purchaseEvent(customerId: string, occurredAt: number, amountMinorBase: number, eventId?: string, categories: string[] = ['home']): CustomerEvent {
  return {
    ...base(customerId, occurredAt, eventId),
    eventType: 'PURCHASE',
    purchase: {
      orderId: `o-${n++}`,
      amountMinor: amountMinorBase,
      currency: 'EUR',
      amountMinorBase,
      items: categories.map((category, i) => ({ sku: `sku-${i}`, category, quantity: 1, unitPriceMinor: Math.round(amountMinorBase / categories.length) })),
      channel: 'WEB',
    },
  };
}

export function clickEvent(customerId: string, occurredAt: number, eventId?: string): CustomerEvent {
  return { ...base(customerId, occurredAt, eventId), eventType: 'EMAIL_CLICK', emailClick: { campaignId: 'cmp-1', emailId: `em-${n++}`, linkId: '/sale' } };
}

export function ticketEvent(customerId: string, occurredAt: number, score: number | null, eventId?: string): CustomerEvent {
  return {
    ...base(customerId, occurredAt, eventId),
    eventType: 'SUPPORT_TICKET',
    supportTicket: { ticketId: `t-${n++}`, status: 'RESOLVED', priority: 'NORMAL', satisfactionScore: score },
  };
}

/** Decodes every decision collected from the decisions topic. */
export async function decodeDecisions(env: StackEnv, values: Array<Buffer | null>): Promise<LabelDecision[]> {
  const registry = new Registry({ url: env.schemaRegistryUrl });
  return Promise.all(values.map((v) => registry.decode<LabelDecision>(v, labelDecisionType)));
}

/** A decision in one line: customer, cause, rules version and changes (`+label(reason)`, `-label(reason)`). */
export function describeChanges(d: LabelDecision): string {
  return `${d.customerId} ${d.cause.kind} ${d.rulesVersion} ${d.changes.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}(${c.reason})`).join(' ')}`;
}
