/**
 * Runs a real evaluator in-process against the real stack, on a test's own topics and
 * Redis key prefix, and lets tests feed canonical events and read decisions back.
 */
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { customerEventType, labelDecisionType, subjectFor, type CustomerEvent, type LabelDecision } from '@labelstream/contracts';
import { createEvaluator } from '../../services/evaluator/src/evaluator';
import { createBacklogProbe, createConsumerRunner, createKafka, createProducer, Registry } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import type { CompiledRules } from '@labelstream/rules';
import { RulesChannel } from '@labelstream/redis-state';
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

/** Starts an evaluator; `wrapProducer` lets a test inject a fault into its Kafka output. */
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
}) {
  const logger = createLogger({ service: 'evaluator-it', level: process.env.IT_LOG_LEVEL ?? 'warn', ...(process.env.IT_LOG_LEVEL ? {} : { destination: silent() }) });
  const metrics = createMetrics('evaluator', { defaultMetrics: false });
  const kafka = createKafka({ brokers: opts.env.kafkaBrokers, clientId: uniqueName('evaluator-it') }, logger);
  const registry = new Registry({ url: opts.env.schemaRegistryUrl });
  const redis = new Redis(opts.env.redisUrl, { maxRetriesPerRequest: null });
  const producer = createProducer(kafka);
  await producer.connect();
  const backlog = createBacklogProbe(kafka, opts.groupId, opts.topics.customerEvents);
  const evaluator = createEvaluator({
    registry,
    producer: opts.wrapProducer ? opts.wrapProducer(producer) : producer,
    redis,
    rules: opts.rules,
    logger,
    metrics,
    topics: opts.topics,
    keyPrefix: opts.keyPrefix,
    timerPollMs: 100,
    stateCacheCustomers: opts.stateCacheCustomers ?? 200_000,
    backlog,
    ...(opts.liveRules ? { rulesChannel: new RulesChannel(redis, opts.keyPrefix), rulesPollMs: 100 } : {}),
  });
  await evaluator.init();
  const runner = createConsumerRunner({
    kafka,
    groupId: opts.groupId,
    topics: [opts.topics.customerEvents],
    handler: evaluator.handleBatch,
    onAssignment: evaluator.onAssignment,
    logger,
    metrics,
    sessionTimeoutMs: 10_000,
    shutdownTimeoutMs: 5000,
    maxBatchMessages: opts.maxBatchMessages ?? 2000,
  });
  await runner.start();
  evaluator.startTimers();
  return {
    metrics,
    redis,
    evaluator,
    async stop() {
      evaluator.stopTimers();
      await runner.stop();
      await backlog.close();
      await producer.disconnect().catch(() => undefined);
      redis.disconnect();
    },
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
