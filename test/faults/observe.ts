/**
 * Looking at the pipeline from outside: whether it has caught up (every group committed to
 * the end of its input, no timer due by the horizon left in Redis, every outbox empty),
 * and reading a topic from the beginning to its end.
 */
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { PartitionKeys, type RedisClient } from '@labelstream/redis-state';
import { uniqueName, waitFor } from '@labelstream/testkit';

export type TopicRecord = KafkaMessage & { partition: number };

/** Messages behind the end of `topics` for `groupId` (all of a topic when nothing is committed). */
export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  let lag = 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const t of topics) {
    const ends = await admin.fetchTopicOffsets(t);
    const mine = committed.find((c) => c.topic === t)?.partitions ?? [];
    for (const e of ends) {
      const c = mine.find((p) => p.partition === e.partition)?.offset ?? '-1';
      lag += Number(BigInt(e.high) - (c === '-1' ? BigInt(e.low) : BigInt(c)));
    }
  }
  return lag;
}

/** Timers due at or before `horizon` still waiting, and decisions still in an outbox. */
export async function evaluatorBacklog(redis: RedisClient, prefix: string, partitions: number, horizon: number): Promise<{ dueTimers: number; outbox: number }> {
  let dueTimers = 0;
  let outbox = 0;
  for (let p = 0; p < partitions; p++) {
    const keys = new PartitionKeys(prefix, p);
    dueTimers += await redis.zcount(keys.timers, '-inf', horizon);
    outbox += await redis.xlen(keys.outbox);
  }
  return { dueTimers, outbox };
}

/** Every message of `topic` up to its end as of the call, per partition in offset order. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 180_000): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const high = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const open = new Set(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => e.partition));
  const out: TopicRecord[] = [];
  if (open.size === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('faults-reader'), maxBytesPerPartition: 8 * 1024 * 1024, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const end = high.get(batch.partition) ?? 0n;
      for (const m of batch.messages) if (BigInt(m.offset) < end) out.push({ ...m, partition: batch.partition });
      if (BigInt(batch.lastOffset()) + 1n >= end) open.delete(batch.partition);
    },
  });
  try {
    await waitFor(`${topic} read to its end`, () => open.size === 0, { timeoutMs, lastSeen: () => ({ read: out.length, open: [...open] }) });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
