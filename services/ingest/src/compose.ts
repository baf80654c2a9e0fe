/**
 * The ingest composition: config → clients → topics → ingest → consumer, as one
 * {@link Service} for the shared lifecycle. main.ts runs it; tests may run the same
 * function in-process.
 */
import type { IngestConfig } from '@labelstream/config';
import type { IngestPolicy } from '@labelstream/ingest-core';
import { checkKafkaAccess, createKafka, createProducer, createResilientRunner, ensureTopics, Registry, topicMaxMessageBytes } from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { runnerStopBound, type LifecycleHooks, type Service } from '@labelstream/service-runtime';
import { createIngest } from './ingest';
import { ingestTopicSpecs, planRecordLimits } from './topics';

/** How often the info-level summary (counters only, never message content) is logged. */
const SUMMARY_INTERVAL_MS = 60_000;

export interface IngestDeps {
  logger: Logger;
  metrics: Metrics;
  hooks: LifecycleHooks;
  /** The compiled policy (policyFromConfig(config)); built by the caller so a bad one is a configuration error. */
  policy: IngestPolicy;
}

/** Builds the ingest clients and components; nothing consumes until `run()`. */
export async function composeIngest(config: IngestConfig, deps: IngestDeps): Promise<Service> {
  const { logger, metrics, hooks } = deps;
  const kafka = createKafka(config.kafka, logger);
  // Wrong credentials or an untrusted certificate: stop now, saying which (no retry loop).
  await checkKafkaAccess(kafka, config.kafka);
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });

  const admin = kafka.admin();
  await admin.connect();
  const limits = await (async () => {
    const specs = ingestTopicSpecs(config);
    const counts = await ensureTopics(admin, specs);
    // Existing topics keep their own sizes: read them, and run (or refuse to) with those.
    const observed = await topicMaxMessageBytes(admin, specs.map((s) => s.topic));
    const planned = planRecordLimits(config, observed);
    for (const w of planned.warnings) logger.warn({ maxMessageBytes: observed }, w);
    logger.info({ partitions: counts, maxMessageBytes: observed, fetchBytesPerPartition: planned.fetchBytesPerPartition }, 'topics ready');
    return planned;
  })().finally(() => admin.disconnect());

  const producer = createProducer(kafka, { compression: config.kafka.compression });
  await producer.connect();
  const ingest = createIngest({
    registry,
    producer,
    policy: deps.policy,
    logger,
    metrics,
    topics: { raw: config.rawTopics, customerEvents: config.topics.customerEvents, dlq: config.topics.dlq },
    dlqMaxRecordBytes: limits.dlqMaxRecordBytes,
  });
  await ingest.init();

  const runner = createResilientRunner({
    kafka,
    groupId: config.groupId,
    topics: [...ingest.rawTopics],
    handler: ingest.handleBatch,
    logger,
    metrics,
    shutdownTimeoutMs: runnerStopBound(config.shutdownTimeoutMs),
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // A fetch must be able to return the largest raw record whole (kafkajs #948).
    maxBytesPerPartition: limits.fetchBytesPerPartition,
    onFatal: (err) => hooks.fatal(err, 'consumer stopped for good'),
  });
  logger.info({ rawTopics: ingest.rawTopics, canonical: config.topics.customerEvents, dlq: config.topics.dlq }, 'ingest composed');

  let summary: NodeJS.Timeout | undefined;
  return {
    health: () => ({ live: runner.fatal() === undefined, ready: runner.isReady(), details: { consumer: runner.status() } }),
    async run() {
      let last = ingest.stats();
      summary = setInterval(() => {
        const now = ingest.stats();
        logger.info(
          { consumed: now.consumed - last.consumed, produced: now.produced - last.produced, deadLettered: now.deadLettered - last.deadLettered, totals: now },
          'ingest summary',
        );
        last = now;
      }, SUMMARY_INTERVAL_MS);
      summary.unref();
      await runner.start();
    },
    async stop() {
      clearInterval(summary);
      // Up to 20% of the bound lets batches in progress finish and commit.
      const drained = await ingest.drain(Math.floor(config.shutdownTimeoutMs * 0.2));
      logger.info({ drained }, 'batches in progress finished; stopping the consumer');
      await runner.stop();
      await producer.disconnect().catch(() => undefined);
    },
  };
}
