/**
 * The publisher's composition: the publisher and one webhook dispatcher per configured
 * destination, as one {@link Service} for the shared lifecycle. main.ts runs it.
 */
import type { PublisherConfig } from '@labelstream/config';
import { checkKafkaAccess, createKafka, createProducer, Registry } from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import type { WebhookDestination } from '@labelstream/publishing';
import { runnerStopBound, type LifecycleHooks, type Service } from '@labelstream/service-runtime';
import { createPublisher } from './publisher';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhook-dispatcher';

export interface PublisherDeps {
  logger: Logger;
  metrics: Metrics;
  hooks: LifecycleHooks;
  /** Webhook destinations with their HMAC secrets (read from the environment by main). */
  webhooks: Array<{ destination: WebhookDestination; secret: string }>;
}

/** Builds the publisher's clients and components; nothing consumes until `run()`. */
export async function composePublisher(config: PublisherConfig, deps: PublisherDeps): Promise<Service> {
  const { logger, metrics, hooks } = deps;
  const kafka = createKafka(config.kafka, logger);
  // Wrong credentials or an untrusted certificate: stop now, saying which (no retry loop).
  await checkKafkaAccess(kafka, config.kafka);
  const registry = new Registry({ ...config.registry, decodeLimits: config.decodeLimits });
  const topicDefaults = config.topicDefaults;
  const shutdownTimeoutMs = runnerStopBound(config.shutdownTimeoutMs);

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
    shutdownTimeoutMs,
    compression: config.kafka.compression,
    retry: config.consumerRetry,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    // Alive but idle is the worst state for a publisher: drain, exit, let the supervisor restart it.
    onFatal: (err) => hooks.fatal(err, 'publisher stopped consuming for good'),
  });
  // Dead letters of all destinations share one producer, apart from the publisher's own.
  const dlqProducer = deps.webhooks.length ? createProducer(kafka, { compression: config.kafka.compression }) : undefined;
  const dispatchers: Array<{ name: string; d: WebhookDispatcher }> = deps.webhooks.map(({ destination, secret }) => ({
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
      shutdownTimeoutMs,
      retry: config.consumerRetry,
      sessionTimeoutMs: config.consumerSessionTimeoutMs,
      onFatal: (err) => hooks.fatal(err, `webhook destination ${destination.name} stopped consuming for good`),
    }),
  }));

  return {
    health: () => ({
      live: publisher.isLive(),
      // Readiness is the publisher's: a dead webhook receiver must not take the Kafka outputs out of service.
      ready: publisher.isReady(),
      details: { publisher: publisher.status(), webhooks: Object.fromEntries(dispatchers.map(({ name, d }) => [name, { ready: d.isReady(), ...d.status() }])) },
    }),
    async run() {
      await publisher.start();
      if (dlqProducer) await dlqProducer.connect();
      await Promise.all(dispatchers.map(({ d }) => d.start()));
    },
    async stop() {
      await Promise.allSettled([publisher.stop(), ...dispatchers.map(({ d }) => d.stop())]);
      await dlqProducer?.disconnect().catch(() => undefined);
    },
  };
}
