/**
 * Ingest service: the composition root. Reads config from the environment, builds the
 * logger, metrics, Kafka and registry clients and the ingest policy, makes sure the topics
 * exist, and hands everything to createIngest and the consumer runner. Everything else
 * lives in ./ingest and packages/.
 */
import { ConfigError, loadIngestConfig, type IngestConfig } from '@labelstream/config';
import { InvalidIngestPolicyError } from '@labelstream/ingest-core';
import { checkKafkaAccess, createConsumerRunner, createKafka, createProducer, ensureTopics, Registry, topicMaxMessageBytes } from '@labelstream/kafka';
import { createLogger, createMetrics, onShutdown, startHttpServer } from '@labelstream/observability';
import { createIngest } from './ingest';
import { policyFromConfig } from './policy';
import { ingestTopicSpecs, planRecordLimits, type RecordLimits } from './topics';
import { InvalidIngestTopicsError } from './errors';

/** How often the info-level summary (counters only, never message content) is logged. */
const SUMMARY_INTERVAL_MS = 60_000;

function loadConfigOrExit(): IngestConfig {
  try {
    return loadIngestConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`ingest: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first: shutdown steps must not hang. */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    t.unref();
    p.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => clearTimeout(t));
  });
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ service: 'ingest', level: config.log.level, pretty: config.log.pretty });
  let policy;
  try {
    policy = policyFromConfig(config);
  } catch (e) {
    if (e instanceof InvalidIngestPolicyError) {
      logger.fatal({ issues: e.issues }, 'invalid ingest policy (check INGEST_BASE_CURRENCY and INGEST_FX_RATES)');
      process.exit(2);
    }
    throw e;
  }
  const metrics = createMetrics('ingest');
  const kafka = createKafka(config.kafka, logger);
  // Wrong credentials or an untrusted certificate: stop now, saying which (no retry loop).
  await checkKafkaAccess(kafka, config.kafka);
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });

  const admin = kafka.admin();
  await admin.connect();
  let limits: RecordLimits;
  try {
    const specs = ingestTopicSpecs(config);
    const counts = await ensureTopics(admin, specs);
    // Existing topics keep their own sizes: read them, and run (or refuse to) with those.
    const observed = await topicMaxMessageBytes(admin, specs.map((s) => s.topic));
    try {
      limits = planRecordLimits(config, observed);
    } catch (e) {
      if (e instanceof InvalidIngestTopicsError) {
        logger.fatal({ maxMessageBytes: observed }, e.message);
        process.exit(2);
      }
      throw e;
    }
    for (const w of limits.warnings) logger.warn({ maxMessageBytes: observed }, w);
    logger.info({ partitions: counts, maxMessageBytes: observed, fetchBytesPerPartition: limits.fetchBytesPerPartition }, 'topics ready');
  } finally {
    await admin.disconnect();
  }

  const producer = createProducer(kafka, { compression: config.kafka.compression });
  await producer.connect();
  const ingest = createIngest({
    registry,
    producer,
    policy,
    logger,
    metrics,
    topics: { raw: config.rawTopics, customerEvents: config.topics.customerEvents, dlq: config.topics.dlq },
    dlqMaxRecordBytes: limits.dlqMaxRecordBytes,
  });
  await ingest.init();

  // The shutdown budget is split so the whole of it fits in SHUTDOWN_TIMEOUT: up to 20% to
  // let batches in progress finish and commit, the runner up to 1.5× its own bound (stop,
  // then disconnect), the producer and HTTP server the rest.
  const drainBoundMs = Math.floor(config.shutdownTimeoutMs * 0.2);
  const runnerBoundMs = Math.max(1000, Math.floor(config.shutdownTimeoutMs * 0.45));
  const runner = createConsumerRunner({
    kafka,
    groupId: config.groupId,
    topics: [...ingest.rawTopics],
    handler: ingest.handleBatch,
    logger,
    metrics,
    shutdownTimeoutMs: runnerBoundMs,
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // A fetch must be able to return the largest raw record whole (kafkajs #948).
    maxBytesPerPartition: limits.fetchBytesPerPartition,
  });

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    registry: metrics.registry,
    logger,
    health: () => {
      const ready = runner.isReady();
      metrics.ready.set(ready ? 1 : 0);
      return { live: true, ready, details: { consumer: runner.status() } };
    },
  });
  logger.info({ port: http.port, rawTopics: ingest.rawTopics, canonical: config.topics.customerEvents, dlq: config.topics.dlq }, 'ingest listening');

  let last = ingest.stats();
  const summary = setInterval(() => {
    const now = ingest.stats();
    logger.info(
      { consumed: now.consumed - last.consumed, produced: now.produced - last.produced, deadLettered: now.deadLettered - last.deadLettered, totals: now },
      'ingest summary',
    );
    last = now;
  }, SUMMARY_INTERVAL_MS);
  summary.unref();

  let shutdownBegan: number | undefined;
  const stopAll = async (): Promise<void> => {
    shutdownBegan ??= Date.now();
    clearInterval(summary);
    const drained = await ingest.drain(drainBoundMs);
    logger.info({ drained }, 'batches in progress finished; stopping the consumer');
    await runner.stop();
    const left = config.shutdownTimeoutMs - (Date.now() - shutdownBegan);
    await bounded(producer.disconnect(), left - 300);
    await bounded(http.close(), 200);
  };
  // Registered before the consumer starts, so a SIGTERM while joining is clean too.
  onShutdown(logger, config.shutdownTimeoutMs, stopAll);

  runner.consumer.on(runner.consumer.events.CRASH, (e) => {
    // kafkajs restarts the consumer itself when it can; when it gives up, exit so the
    // orchestrator restarts the process instead of leaving a live-but-idle member.
    if (e.payload.restart) return;
    logger.fatal('consumer crashed and will not restart; exiting');
    void bounded(stopAll(), config.shutdownTimeoutMs).then(() => process.exit(1));
  });

  try {
    await runner.start();
  } catch (err) {
    // A SIGTERM while joining stops the consumer under runner.start(): onShutdown exits.
    if (shutdownBegan === undefined) throw err;
  }
}

main().catch((err: unknown) => {
  console.error('ingest failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
