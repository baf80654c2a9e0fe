import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { chunkMessages, MAX_SEND_BYTES } from './chunk';
import { COMPRESSION_TYPES, registerCodecs, type CodecName } from './codecs';

export interface ProducerOptions {
  transactionalId?: string;
  /**
   * Codec for every batch this producer sends unless a call names its own (default `none`).
   * Consumers of ours read all four; so does any Kafka client since 2.1 (zstd) or 0.8/0.10.
   */
  compression?: 'none' | CodecName;
}

/**
 * An idempotent producer (acks=all, one request in flight per broker so retries cannot
 * reorder). kafkajs has no linger: callers batch with `sendBatch`.
 */
export function createProducer(kafka: Kafka, opts: ProducerOptions = {}): Producer {
  registerCodecs();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2, as the Java client: keys land on the same partitions whoever produces them.
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(opts.transactionalId ? { transactionalId: opts.transactionalId } : {}),
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const compression = COMPRESSION_TYPES[opts.compression ?? 'none'];
  if (!compression) return producer;
  // kafkajs takes the codec per call: fill it in wherever the caller did not choose.
  return {
    ...producer,
    send: (record) => producer.send({ ...record, compression: record.compression ?? compression }),
    sendBatch: (batch) => producer.sendBatch({ ...batch, compression: batch.compression ?? compression }),
  };
}

/**
 * Sends all messages, grouped by topic, in one request per broker, and waits for all
 * replicas. One request means one record batch per partition, which Kafka appends
 * atomically (the publisher relies on that); it must therefore stay under the broker's
 * `message.max.bytes` — use {@link sendChunked} for output of unbounded size.
 */
export async function sendAll(producer: Producer, byTopic: Map<string, Message[]>): Promise<void> {
  const topicMessages: TopicMessages[] = [];
  for (const [topic, messages] of byTopic) if (messages.length) topicMessages.push({ topic, messages });
  if (!topicMessages.length) return;
  await producer.sendBatch({ topicMessages, acks: -1 });
}

/**
 * Like {@link sendAll}, in as many requests of at most `maxBytes` (default 512 KiB) as it
 * takes, one after the other, so per-partition order is kept. Not atomic: a failure part-way
 * leaves the earlier requests written (at-least-once callers re-send, and dedupe).
 */
export async function sendChunked(producer: Producer, byTopic: Map<string, Message[]>, maxBytes = MAX_SEND_BYTES): Promise<void> {
  const all: Array<{ topic: string; message: Message }> = [];
  for (const [topic, messages] of byTopic) for (const message of messages) all.push({ topic, message });
  for (const run of chunkMessages(all, (x) => x.message, maxBytes)) {
    const grouped = new Map<string, Message[]>();
    for (const { topic, message } of run) {
      const list = grouped.get(topic);
      if (list) list.push(message);
      else grouped.set(topic, [message]);
    }
    await sendAll(producer, grouped);
  }
}
