import type { IngestConfig } from '@labelstream/config';
import type { TopicSpec } from '@labelstream/kafka';
import { rawKindsByTopic, type RawKind } from '@labelstream/ingest-core';
import { InvalidIngestTopicsError } from './errors';

/** Room for the DLQ headers (reason, message, path, source, time) on top of the original record. */
export const DLQ_HEADER_ROOM = 64 * 1024;
/** The smallest DLQ limit ingest starts with: a truncated record (prefix, headers) must fit. */
export const MIN_DLQ_RECORD_BYTES = 64 * 1024;

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
 * canonical output and the DLQ. Sizes derive from the one setting `rawMaxRecordBytes`:
 * raw topics accept records that large, the DLQ that plus room for its headers, so an
 * OVERSIZE reject is copied there whole.
 */
export function ingestTopicSpecs(config: Pick<IngestConfig, 'rawTopics' | 'topics' | 'topicDefaults' | 'rawMaxRecordBytes'>): TopicSpec[] {
  const base = { numPartitions: config.topicDefaults.partitions, replicationFactor: config.topicDefaults.replicationFactor };
  const raw = { ...base, config: { 'max.message.bytes': String(config.rawMaxRecordBytes) } };
  return [
    { topic: config.rawTopics.purchases, ...raw },
    { topic: config.rawTopics.emailClicks, ...raw },
    { topic: config.rawTopics.supportTickets, ...raw },
    { topic: config.topics.customerEvents, ...base },
    { topic: config.topics.dlq, ...base, config: { 'max.message.bytes': String(config.rawMaxRecordBytes + DLQ_HEADER_ROOM) } },
  ];
}

/** What ingest runs with, given the limits the topics really have (they may predate the setting). */
export interface RecordLimits {
  /** Consumer fetch size per partition: a fetch must return the largest raw record whole (kafkajs #948). */
  fetchBytesPerPartition: number;
  /** The DLQ's real limit: copies larger than that are dead-lettered truncated. */
  dlqMaxRecordBytes: number;
  /** Mismatches worth a warning at start-up (ingest still runs). */
  warnings: string[];
}

/**
 * The start-up check of record sizes: `observed` is each topic's effective
 * `max.message.bytes` (topicMaxMessageBytes). Throws InvalidIngestTopicsError when the DLQ
 * cannot even hold a truncated record; warns when a raw topic accepts more than the setting
 * (fetches grow to match) or the DLQ cannot hold every reject whole (those are truncated).
 */
export function planRecordLimits(config: Pick<IngestConfig, 'rawTopics' | 'topics' | 'rawMaxRecordBytes'>, observed: Readonly<Record<string, number>>): RecordLimits {
  const warnings: string[] = [];
  const rawNames = [config.rawTopics.purchases, config.rawTopics.emailClicks, config.rawTopics.supportTickets];
  let rawMax = config.rawMaxRecordBytes;
  for (const topic of rawNames) {
    const limit = observed[topic];
    if (limit !== undefined && limit > config.rawMaxRecordBytes) {
      warnings.push(`raw topic ${topic} accepts records up to ${limit} bytes, more than RAW_MAX_RECORD_BYTES (${config.rawMaxRecordBytes}); fetching up to that`);
      rawMax = Math.max(rawMax, limit);
    }
  }
  const dlq = observed[config.topics.dlq];
  if (dlq === undefined) throw new InvalidIngestTopicsError(`cannot read max.message.bytes of the DLQ topic ${config.topics.dlq}`, { topic: config.topics.dlq });
  if (dlq < MIN_DLQ_RECORD_BYTES) {
    throw new InvalidIngestTopicsError(`DLQ topic ${config.topics.dlq} accepts records up to ${dlq} bytes; ingest needs at least ${MIN_DLQ_RECORD_BYTES}`, { topic: config.topics.dlq, maxMessageBytes: dlq });
  }
  if (dlq < rawMax + DLQ_HEADER_ROOM) {
    warnings.push(
      `DLQ topic ${config.topics.dlq} accepts records up to ${dlq} bytes, less than raw records (${rawMax}) plus DLQ headers: larger rejects are dead-lettered truncated (prefix, size and sha256; set its max.message.bytes to ${rawMax + DLQ_HEADER_ROOM} to keep them whole)`,
    );
  }
  return { fetchBytesPerPartition: Math.max(4 * 1024 * 1024, rawMax * 2), dlqMaxRecordBytes: dlq, warnings };
}
