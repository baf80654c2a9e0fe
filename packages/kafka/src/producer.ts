import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';

/**
 * An idempotent producer (acks=all, one request in flight per broker so retries cannot
 * reorder). kafkajs has no linger: callers batch with `sendBatch`.
 */
export function createProducer(kafka: Kafka, opts: { transactionalId?: string } = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2, as the Java client: keys land on the same partitions whoever produces them.
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(opts.transactionalId ? { transactionalId: opts.transactionalId } : {}),
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}

/** Sends all messages, grouped by topic, in one request per broker, and waits for all replicas. */
export async function sendAll(producer: Producer, byTopic: Map<string, Message[]>): Promise<void> {
  const topicMessages: TopicMessages[] = [];
  for (const [topic, messages] of byTopic) if (messages.length) topicMessages.push({ topic, messages });
  if (!topicMessages.length) return;
  await producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
}
