/**
 * The evaluator's composition: config → clients → evaluator → consumer, as one
 * {@link Service} for the shared lifecycle. main.ts runs it; the integration tests run the
 * same function in-process, so they test what production runs.
 */
import { readFileSync } from 'node:fs';
import type { Producer } from 'kafkajs';
import type { EvaluatorConfig } from '@labelstream/config';
import { checkKafkaAccess, createBacklogProbe, createKafka, createProducer, createResilientRunner, ensureTopics, readPartitionHistory, Registry } from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { checkRedisAccess, createRedisClient, RulesChannel, type RedisClient } from '@labelstream/redis-state';
import { loadRules, type CompiledRules } from '@labelstream/rules';
import { runnerStopBound, type LifecycleHooks, type Service } from '@labelstream/service-runtime';
import { createEvaluator, type Evaluator } from './evaluator';
import { explainCustomer } from './explain';

export interface EvaluatorDeps {
  logger: Logger;
  metrics: Metrics;
  hooks: LifecycleHooks;
  /** Compiled rules; default: loaded from `config.rulesFile`. */
  rules?: CompiledRules;
  /** Lets a test inject a fault into the evaluator's Kafka output. */
  wrapProducer?: (p: Producer) => Producer;
}

export interface EvaluatorService extends Service {
  redis: RedisClient;
  /** The evaluator itself (tests read its rules status). */
  evaluator: Evaluator;
}

/** Builds the evaluator's clients and components; nothing consumes until `run()`. */
export async function composeEvaluator(config: EvaluatorConfig, deps: EvaluatorDeps): Promise<EvaluatorService> {
  const { logger, metrics, hooks } = deps;
  const rules = deps.rules ?? loadRules(readFileSync(config.rulesFile, 'utf8'), { source: config.rulesFile });
  logger.info({ rulesFile: config.rulesFile, rulesVersion: rules.version, labels: rules.labels.length, features: rules.features.length }, 'rules loaded');

  const kafka = createKafka(config.kafka, logger);
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });
  // One server or a Redis Cluster (redis+cluster://), as REDIS_URL says.
  const redis = createRedisClient(config.redis.url, config.redis.tlsCa ? { tlsCa: config.redis.tlsCa } : {});
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  // Wrong credentials or an untrusted certificate: stop now, saying which — Kafka's
  // client and ioredis would otherwise retry (ioredis for ever).
  try {
    await checkKafkaAccess(kafka, config.kafka);
    await checkRedisAccess(redis, config.redis.url);
  } catch (err) {
    redis.disconnect();
    throw err;
  }

  const admin = kafka.admin();
  await admin.connect();
  const spec = { numPartitions: config.topicDefaults.partitions, replicationFactor: config.topicDefaults.replicationFactor };
  const counts = await ensureTopics(admin, [
    { topic: config.topics.customerEvents, ...spec },
    { topic: config.topics.decisions, ...spec },
    { topic: config.topics.dlq, ...spec },
  ]).finally(() => admin.disconnect());
  const partitions = counts[config.topics.customerEvents] ?? config.topicDefaults.partitions;
  if ((counts[config.topics.decisions] ?? 0) < partitions) {
    redis.disconnect();
    throw new Error(`${config.topics.decisions} has ${counts[config.topics.decisions]} partitions but ${config.topics.customerEvents} has ${partitions}: decisions are written to the partition of their source, so it needs at least as many`);
  }

  const producer = createProducer(kafka, { compression: config.kafka.compression });
  await producer.connect();
  const backlog = createBacklogProbe(kafka, config.groupId, config.topics.customerEvents);
  const evaluator = createEvaluator({
    registry,
    producer: deps.wrapProducer ? deps.wrapProducer(producer) : producer,
    redis,
    rules,
    logger,
    metrics,
    topics: config.topics,
    keyPrefix: config.redis.keyPrefix,
    timerPollMs: config.timerPollMs,
    historyCap: config.historyCap,
    ...(config.redis.waitReplicas > 0 ? { replicaWait: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs } } : {}),
    stateCacheCustomers: config.stateCacheCustomers,
    flapWindowMs: config.flapWindowMs,
    // Timers of a newly assigned partition wait until its backlog is applied.
    backlog,
    // Live rules changes: `labelstream rules deploy` publishes here.
    rulesChannel: new RulesChannel(redis, config.redis.keyPrefix),
    rulesPollMs: config.rulesPollMs,
    sweepPerSecond: config.sweepPerSecond,
    backfillMaxCustomers: config.backfillMaxCustomers,
    maxFutureSkewMs: config.maxFutureSkewMs,
    // A rules switch that adds or redefines a feature fills it from the input's retained history.
    history: (range, onRecords) => readPartitionHistory(kafka, { topic: config.topics.customerEvents, ...range }, onRecords, { groupIdPrefix: `${config.groupId}-backfill` }),
  });
  await evaluator.init();

  const runner = createResilientRunner({
    kafka,
    groupId: config.groupId,
    topics: [config.topics.customerEvents],
    handler: evaluator.handleBatch,
    onAssignment: evaluator.onAssignment,
    logger,
    metrics,
    shutdownTimeoutMs: runnerStopBound(config.shutdownTimeoutMs),
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // The evaluator's output does not depend on batch boundaries (per-event replay), so a
    // backlog fetch is applied in slices: one Redis commit and one offset commit each.
    maxBatchMessages: config.maxBatchEvents,
    onFatal: (err) => hooks.fatal(err, 'consumer stopped for good'),
  });

  return {
    redis,
    evaluator,
    health: () => {
      // Ready once every assigned partition is taken over (fenced and its outbox drained):
      // before that its events wait, however healthy the consumer looks.
      const pending = evaluator.pendingPartitions();
      const ready = runner.isReady() && redis.status === 'ready' && pending.length === 0;
      return { live: runner.fatal() === undefined, ready, details: { redis: redis.status, consumer: runner.status(), owned: evaluator.ownedPartitions(), pending, rules: evaluator.rulesStatus() } };
    },
    async run() {
      await runner.start();
      evaluator.startTimers();
    },
    async stop() {
      evaluator.stopTimers();
      await runner.stop();
      await backlog.close();
      await producer.disconnect().catch(() => undefined);
      redis.disconnect();
    },
    admin: {
      customers: async ({ path }) => {
        const id = path[0];
        // Ingest never accepts a customer id this long: no Redis round trip for it.
        if (!id || path.length > 1 || id.length > 256) return { status: 400, body: { error: 'usage: /admin/customers/<customerId>' } };
        const out = await explainCustomer(redis, config.redis.keyPrefix, partitions, evaluator.rulesOf, id, Date.now());
        return out.found ? { status: 200, body: out } : { status: 404, body: { error: 'no state for this customer' } };
      },
      rules: async () => ({ status: 200, body: { version: rules.version, labels: rules.labels.map((l) => ({ name: l.name, category: l.category })), rollout: evaluator.rulesStatus() } }),
    },
  };
}
