/**
 * Publisher composition root: configuration from the environment, then logger, metrics,
 * Kafka, registry, the publisher, one webhook dispatcher per configured destination, the
 * HTTP endpoints and a bounded shutdown. All logic lives in publisher.ts and
 * webhook-dispatcher.ts.
 */
import { readFileSync } from 'node:fs';
import { loadPublisherConfig } from '@labelstream/config';
import { checkKafkaAccess, createKafka, createProducer, Registry } from '@labelstream/kafka';
import { createLogger, createMetrics, onShutdown, startHttpServer } from '@labelstream/observability';
import { parseWebhookDestinations, type WebhookDestination } from '@labelstream/publishing';
import { createPublisher } from './publisher';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhook-dispatcher';

function fail(message: string): never {
  process.stderr.write(`publisher: ${message}\n`);
  process.exit(2);
}

function loadDestinations(file: string | undefined): Array<{ destination: WebhookDestination; secret: string }> {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`WEBHOOKS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const destinations = parseWebhookDestinations(text, file);
  const missing = destinations.filter((d) => !process.env[d.secretEnv]);
  if (missing.length) fail(missing.map((d) => `${d.secretEnv}: is required (HMAC secret of webhook destination "${d.name}")`).join('\n'));
  return destinations.map((destination) => ({ destination, secret: process.env[destination.secretEnv]! }));
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadPublisherConfig>;
  let webhooks: ReturnType<typeof loadDestinations>;
  try {
    config = loadPublisherConfig(process.env);
    webhooks = loadDestinations(config.webhooksFile);
  } catch (err) {
    fail((err as Error).message);
  }
  const logger = createLogger({ service: 'publisher', level: config.log.level, pretty: config.log.pretty });
  const metrics = createMetrics('publisher');
  const kafka = createKafka(config.kafka, logger);
  // Wrong credentials or an untrusted certificate: stop now, saying which (no retry loop).
  await checkKafkaAccess(kafka, config.kafka).catch((err: unknown) => {
    process.stderr.write(`publisher failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });
  const topicDefaults = config.topicDefaults;

  const publisher = createPublisher({
    kafka,
    registry,
    logger,
    metrics,
    topics: {
      decisions: config.topics.decisions,
      labelEvents: config.topics.labelEvents,
      customerLabels: config.topics.customerLabels,
      dlq: config.topics.dlq,
      customerEvents: config.topics.customerEvents,
    },
    groupId: config.groupId,
    topicDefaults,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    compression: config.kafka.compression,
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // Alive but idle is the worst state for a publisher: exit, let the supervisor restart it.
    onFatal: () => exitAfterFatal(),
  });
  // Dead letters of all destinations share one producer, apart from the publisher's own.
  const dlqProducer = webhooks.length ? createProducer(kafka, { compression: config.kafka.compression }) : undefined;
  const dispatchers: Array<{ name: string; d: WebhookDispatcher }> = webhooks.map(({ destination, secret }) => ({
    name: destination.name,
    d: createWebhookDispatcher({
      kafka,
      registry,
      logger,
      metrics,
      producer: dlqProducer!,
      topic: config.topics.labelEvents,
      destination,
      secret,
      topicDefaults,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      retry: config.consumerRetry,
      sessionTimeoutMs: config.consumerSessionTimeoutMs,
      onFatal: () => exitAfterFatal(),
    }),
  }));

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    registry: metrics.registry,
    logger,
    health: () => {
      const status = publisher.status();
      // Readiness is the publisher's: a dead webhook receiver must not take the Kafka outputs out of service.
      const ready = publisher.isReady();
      metrics.ready.set(ready ? 1 : 0);
      return {
        live: publisher.isLive(),
        ready,
        details: { publisher: status, webhooks: Object.fromEntries(dispatchers.map(({ name, d }) => [name, { ready: d.isReady(), ...d.status() }])) },
      };
    },
  });
  logger.info({ port: http.port }, 'http endpoints listening (/metrics, /healthz, /readyz)');

  async function stopAll(): Promise<void> {
    await Promise.allSettled([publisher.stop(), ...dispatchers.map(({ d }) => d.stop())]);
    await dlqProducer?.disconnect().catch(() => undefined);
    await http.close();
  }
  let exiting = false;
  function exitAfterFatal(): void {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    void stopAll().finally(() => {
      logger.flush?.();
      process.exit(1);
    });
  }
  onShutdown(logger, config.shutdownTimeoutMs, stopAll);

  try {
    await publisher.start();
    if (dlqProducer) await dlqProducer.connect();
    await Promise.all(dispatchers.map(({ d }) => d.start()));
  } catch (err) {
    logger.fatal({ err }, 'publisher failed to start');
    logger.flush?.();
    process.exit(1);
  }
}

void main();
