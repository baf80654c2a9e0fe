import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { AdapterError } from './errors';

export interface ReadTailOptions {
  /** How many records to read from the end of each partition (default 1). */
  count?: number;
  /** Give up after this long (default 15 s); the error is retriable. */
  timeoutMs?: number;
  /** Prefix of the short-lived consumer group (default `labelstream-tail`). */
  groupIdPrefix?: string;
}

/**
 * The last `count` records of each of `partitions` of `topic`, oldest first (no entry for
 * an empty partition), as of the moment of the call — plus any record appended meanwhile
 * that arrives in the same fetch.
 *
 * kafkajs can only fetch through a consumer group, so this joins a throw-away group (it
 * never commits) that seeks each partition to its high watermark − `count`. One call reads
 * many partitions with one join: expect tens of milliseconds on a local broker, plus the
 * broker's `group.initial.rebalance.delay.ms` (3 s by default, 0 in the local stack).
 *
 * Assumes the last offset holds a data record, which is true for topics written without
 * transactions; a transaction marker there would make the call time out.
 */
export async function readTailRecords(kafka: Kafka, topic: string, partitions: readonly number[], opts: ReadTailOptions = {}): Promise<Map<number, KafkaMessage[]>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const count = BigInt(Math.max(1, opts.count ?? 1));
  const result = new Map<number, KafkaMessage[]>();
  if (!partitions.length) return result;

  const admin = kafka.admin();
  /** partition → [first offset to read, last offset that must be seen] */
  const ranges = new Map<number, [bigint, bigint]>();
  await admin.connect();
  try {
    for (const o of await admin.fetchTopicOffsets(topic)) {
      if (!partitions.includes(o.partition)) continue;
      const high = BigInt(o.high);
      const low = BigInt(o.low);
      if (high > low) ranges.set(o.partition, [high - count > low ? high - count : low, high - 1n]);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (!ranges.size) return result;

  const consumer = kafka.consumer({
    groupId: `${opts.groupIdPrefix ?? 'labelstream-tail'}-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 50,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const done = new Set<number>();
  let allRead!: () => void;
  const finished = new Promise<void>((resolve) => (allRead = resolve));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range || done.has(batch.partition)) return;
        const list = result.get(batch.partition) ?? [];
        const first = batch.messages[0];
        // A fetch made before the seek took effect starts later (at the end): ignore it.
        if (!first || (!list.length && BigInt(first.offset) > range[0])) return;
        for (const m of batch.messages) if (BigInt(m.offset) >= range[0]) list.push(m);
        result.set(batch.partition, list);
        if (list.length && BigInt(list[list.length - 1]!.offset) >= range[1]) done.add(batch.partition);
        if (done.size === ranges.size) allRead();
      },
    });
    // run() has joined the group; seeks apply from the next fetch on.
    for (const [partition, [from]] of ranges) consumer.seek({ topic, partition, offset: from.toString() });
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new AdapterError('TAIL_READ_TIMEOUT', `reading the last records of ${topic} took over ${timeoutMs} ms`, true, { topic, partitions: [...ranges.keys()] })),
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
