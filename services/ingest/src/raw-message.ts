import type { KafkaMessage } from 'kafkajs';
import type { RawKind, RawMessage } from '@labelstream/ingest-core';

/**
 * The ingest-core view of one fetched raw record. The key and headers travel on only in
 * a DLQ copy: raw topics are keyed arbitrarily, and ingest re-keys by customerId.
 */
export function toRawMessage(kind: RawKind, source: { readonly topic: string; readonly partition: number }, message: KafkaMessage): RawMessage {
  return {
    kind,
    // kafkajs hands out null for a tombstone; ingest-core rejects both null and empty.
    value: message.value ?? null,
    key: message.key ?? null,
    topic: source.topic,
    partition: source.partition,
    offset: message.offset,
  };
}
