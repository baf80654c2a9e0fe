import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { AdapterError } from './errors';

export interface ReadLastRecordsOptions {
  /** Give up after this long (default 15 s); the error is retriable. */
  timeoutMs?: number;
  /** Prefix of the short-lived consumer group (default `labelstream-tail`). */
  groupIdPrefix?: string;
}

/**
 * The last record of each of `partitions` of `topic` (absent for an empty partition),
 * read at the moment of the call — or a later record, if someone appends meanwhile.
 *
 * kafkajs can only fetch through a consumer group, so this joins a throw-away group (it
 * never commits) that seeks each partition to its high watermark − 1. One call reads many
 * partitions with one join; expect a few hundred milliseconds, plus the broker's
 * `group.initial.rebalance.delay.ms` (3 s by default, 0 in the local stack).
 *
 * Assumes the last offset holds a data record, which is true for topics written without
 * transactions; a transaction marker there would make the call time out.
 */
export async function readLastRecords(kafka: Kafka, topic: string, partitions: readonly number[], opts: ReadLastRecordsOptions = {}): Promise<Map<number, KafkaMessage>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const result = new Map<number, KafkaMessage>();
  if (!partitions.length) return result;

  const admin = kafka.admin();
  const targets = new Map<number, bigint>();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const o of offsets) {
      if (!partitions.includes(o.partition)) continue;
      const high = BigInt(o.high);
      if (high > BigInt(o.low)) targets.set(o.partition, high - 1n);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (!targets.size) return result;

  const consumer = kafka.consumer({
    groupId: `${opts.groupIdPrefix ?? 'labelstream-tail'}-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 50,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  let done!: () => void;
  const allRead = new Promise<void>((resolve) => (done = resolve));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        if (target === undefined || result.has(batch.partition)) return;
        let last: KafkaMessage | undefined;
        for (const m of batch.messages) if (BigInt(m.offset) >= target && (!last || BigInt(m.offset) > BigInt(last.offset))) last = m;
        if (last) result.set(batch.partition, last);
        if (result.size === targets.size) done();
      },
    });
    // run() has joined the group; seeks apply from the next fetch on.
    for (const [partition, offset] of targets) consumer.seek({ topic, partition, offset: offset.toString() });
    await Promise.race([
      allRead,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new AdapterError('TAIL_READ_TIMEOUT', `reading the last records of ${topic} took over ${timeoutMs} ms`, true, { topic, partitions: [...targets.keys()] })),
          timeoutMs,
        );
      }),
    ]);
    return result;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
