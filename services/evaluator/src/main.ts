/**
 * Evaluator service: the composition root. Reads config from the environment, builds the
 * logger, metrics, Kafka, registry and Redis clients, loads and validates the rules, and
 * hands them to the evaluator. Everything else lives in packages/.
 */
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { loadEvaluatorConfig, ConfigError } from '@labelstream/config';
import { createLogger, createMetrics, onShutdown, startHttpServer } from '@labelstream/observability';
import { checkKafkaAccess, createBacklogProbe, createConsumerRunner, createKafka, createProducer, ensureTopics, Registry } from '@labelstream/kafka';
import { checkRedisAccess, RulesChannel } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { createEvaluator } from './evaluator';
import { explainCustomer } from './explain';

async function main(): Promise<void> {
  let config;
  try {
    config = loadEvaluatorConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`evaluator: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ service: 'evaluator', level: config.log.level, pretty: config.log.pretty });
  const metrics = createMetrics('evaluator');
  const rules = loadRules(readFileSync(config.rulesFile, 'utf8'), { source: config.rulesFile });
  logger.info({ rulesFile: config.rulesFile, rulesVersion: rules.version, labels: rules.labels.length, features: rules.features.length }, 'rules loaded');

  const kafka = createKafka(config.kafka, logger);
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });
  const redis = new Redis(config.redis.url, {
    keyPrefix: '',
    maxRetriesPerRequest: null, // commands wait for a reconnect instead of failing a batch mid-way
    enableAutoPipelining: true,
    ...(config.redis.tlsCa ? { tls: { ca: config.redis.tlsCa } } : {}),
  });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  // Wrong credentials or an untrusted certificate: stop now, saying which — Kafka's
  // client and ioredis would otherwise retry (ioredis for ever).
  await checkKafkaAccess(kafka, config.kafka);
  await checkRedisAccess(redis, config.redis.url);

  const admin = kafka.admin();
  await admin.connect();
  const spec = { numPartitions: config.topicDefaults.partitions, replicationFactor: config.topicDefaults.replicationFactor };
  const counts = await ensureTopics(admin, [
    { topic: config.topics.customerEvents, ...spec },
    { topic: config.topics.decisions, ...spec },
    { topic: config.topics.dlq, ...spec },
  ]);
  await admin.disconnect();
  const partitions = counts[config.topics.customerEvents] ?? config.topicDefaults.partitions;
  if ((counts[config.topics.decisions] ?? 0) < partitions) {
    throw new Error(`${config.topics.decisions} has ${counts[config.topics.decisions]} partitions but ${config.topics.customerEvents} has ${partitions}: decisions are written to the partition of their source, so it needs at least as many`);
  }

  const producer = createProducer(kafka, { compression: config.kafka.compression });
  await producer.connect();
  const backlog = createBacklogProbe(kafka, config.groupId, config.topics.customerEvents);
  const evaluator = createEvaluator({
    registry,
    producer,
    redis,
    rules,
    logger,
    metrics,
    topics: config.topics,
    keyPrefix: config.redis.keyPrefix,
    timerPollMs: config.timerPollMs,
    historyCap: config.historyCap,
    stateCacheCustomers: config.stateCacheCustomers,
    // Timers of a newly assigned partition wait until its backlog is applied.
    backlog,
    rulesChannel: new RulesChannel(redis, config.redis.keyPrefix),
    rulesPollMs: config.rulesPollMs,
    sweepPerSecond: config.sweepPerSecond,
  });
  await evaluator.init();

  const runner = createConsumerRunner({
    kafka,
    groupId: config.groupId,
    topics: [config.topics.customerEvents],
    handler: evaluator.handleBatch,
    onAssignment: evaluator.onAssignment,
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // The evaluator's output does not depend on batch boundaries (per-event replay), so a
    // backlog fetch is applied in slices: one Redis commit and one offset commit each.
    maxBatchMessages: config.maxBatchEvents,
  });

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    registry: metrics.registry,
    logger,
    health: () => {
      // Ready once every assigned partition is taken over (fenced and its outbox drained):
      // before that its events wait, however healthy the consumer looks.
      const pending = evaluator.pendingPartitions();
      const ready = runner.isReady() && redis.status === 'ready' && pending.length === 0;
      metrics.ready.set(ready ? 1 : 0);
      return { live: true, ready, details: { redis: redis.status, consumer: runner.status(), owned: evaluator.ownedPartitions(), pending, rules: evaluator.rulesStatus() } };
    },
    admin: {
      token: config.adminToken,
      routes: {
        customers: async ({ path }) => {
          const id = path[0];
          // Ingest never accepts a customer id this long: no Redis round trip for it.
          if (!id || path.length > 1 || id.length > 256) return { status: 400, body: { error: 'usage: /admin/customers/<customerId>' } };
          const out = await explainCustomer(redis, config.redis.keyPrefix, partitions, evaluator.rulesOf, id, Date.now());
          return out.found ? { status: 200, body: out } : { status: 404, body: { error: 'no state for this customer' } };
        },
        rules: async () => ({ status: 200, body: { version: rules.version, labels: rules.labels.map((l) => ({ name: l.name, category: l.category })), rollout: evaluator.rulesStatus() } }),
      },
    },
  });
  logger.info({ port: http.port, metrics: `http://${config.http.host}:${http.port}/metrics` }, 'http server listening');

  runner.consumer.on(runner.consumer.events.CRASH, (e) => {
    // kafkajs restarts the consumer itself when it can; when it gives up, exit so the
    // orchestrator restarts the process instead of leaving a live-but-idle member.
    if (e.payload.restart) return;
    logger.fatal('consumer crashed and will not restart; exiting');
    process.exit(1);
  });
  await runner.start();
  evaluator.startTimers();

  onShutdown(logger, config.shutdownTimeoutMs + 2000, async () => {
    evaluator.stopTimers();
    await runner.stop();
    await backlog.close();
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    await http.close();
  });
}

main().catch((err: unknown) => {
  console.error('evaluator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
