import type { IngestConfig } from '@labelstream/config';
import type { TopicSpec } from '@labelstream/kafka';
import { rawKindsByTopic, type RawKind } from '@labelstream/ingest-core';
import { InvalidIngestTopicsError } from './errors';

/** Kafka's default `message.max.bytes`: what a raw topic accepts unless configured otherwise. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Room for the DLQ headers (reason, message, path, source, time) on top of the original record. */
const DLQ_HEADER_ROOM = 64 * 1024;

/**
 * The raw topic → kind map the consumer subscribes by. Refuses a topic configured for two
 * kinds (the topic alone decides the kind) or one that is also an output topic (ingest
 * would consume its own output).
 */
export function resolveRawTopics(
  rawTopics: IngestConfig['rawTopics'],
  outputs: { readonly customerEvents: string; readonly dlq: string },
): ReadonlyMap<string, RawKind> {
  const names = [rawTopics.purchases, rawTopics.emailClicks, rawTopics.supportTickets];
  const kinds = rawKindsByTopic(rawTopics);
  if (kinds.size !== names.length) throw new InvalidIngestTopicsError('each raw kind needs its own topic', { rawTopics });
  for (const out of [outputs.customerEvents, outputs.dlq]) {
    if (kinds.has(out)) throw new InvalidIngestTopicsError(`${out} is both a raw input and an output topic`, { topic: out });
  }
  return kinds;
}

/**
 * Topics ingest makes sure exist at start-up: the raw inputs (so a fresh stack works;
 * in production the platform teams own them and existing topics are left alone), the
 * canonical output and the DLQ. The DLQ allows records a little larger than any raw
 * record, because an OVERSIZE reject is copied there whole plus its headers.
 */
export function ingestTopicSpecs(config: Pick<IngestConfig, 'rawTopics' | 'topics' | 'topicDefaults' | 'maxMessageBytes'>): TopicSpec[] {
  const base = { numPartitions: config.topicDefaults.partitions, replicationFactor: config.topicDefaults.replicationFactor };
  const dlqMax = Math.max(BROKER_DEFAULT_MAX_MESSAGE_BYTES, config.maxMessageBytes) + DLQ_HEADER_ROOM;
  return [
    { topic: config.rawTopics.purchases, ...base },
    { topic: config.rawTopics.emailClicks, ...base },
    { topic: config.rawTopics.supportTickets, ...base },
    { topic: config.topics.customerEvents, ...base },
    { topic: config.topics.dlq, ...base, config: { 'max.message.bytes': String(dlqMax) } },
  ];
}
