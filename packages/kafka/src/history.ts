import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { customerEventType, type CustomerEvent } from '@labelstream/contracts';
import { AdapterError, isRetriable } from './errors';
import type { Registry } from './registry';

/** What {@link readPartitionHistory} reads. */
export interface HistoryRange {
  topic: string;
  partition: number;
  /** Read from the first record with a timestamp at or after this (epoch ms); null: from the log start. */
  sinceMs: number | null;
  /** Stop before this offset (exclusive); null: at the high watermark of the start of the call. */
  until: string | null;
}

/** Where a history read started and how far back it reached. */
export interface HistoryReach {
  /** The partition's log start offset: 0 when nothing was ever deleted from it. */
  logStart: string;
  /** The first offset read, and the end (exclusive). */
  from: string;
  end: string;
  /**
   * How far back the history reached: -Infinity when it is complete (log start 0); `sinceMs`
   * when records older than it are retained; else the timestamp of the earliest retained
   * record (or the call's time when none is left before `end`).
   */
  since: number;
  /** Records handed to `onRecords`. */
  records: number;
}

export interface ReadHistoryOptions {
  /** Give up when no record arrived for this long (default 30 s); the error is retriable. */
  idleTimeoutMs?: number;
  /** Prefix of the short-lived consumer group (default `labelstream-history`). */
  groupIdPrefix?: string;
  /** The time of the call (epoch ms); default Date.now(). */
  now?: number;
}

/**
 * Reads one partition's retained records in `range`, in offset order, handing them to
 * `onRecords` batch by batch (awaited: memory stays bounded by one fetch).
 *
 * kafkajs can only fetch through a consumer group, so this joins a throw-away group (it
 * never commits) with the other partitions paused and seeks the partition to the offset of
 * `sinceMs` (admin `fetchTopicOffsetsByTimestamp`). Record timestamps are produce times, and
 * an event is produced after it occurred: every event that occurred since `sinceMs` is at or
 * after that offset.
 */
export async function readPartitionHistory(kafka: Kafka, range: HistoryRange, onRecords: (records: KafkaMessage[]) => Promise<void>, opts: ReadHistoryOptions = {}): Promise<HistoryReach> {
  const { topic, partition } = range;
  const now = opts.now ?? Date.now();
  const admin = kafka.admin();
  let low: bigint;
  let from: bigint;
  let end: bigint;
  let others: number[];
  await admin.connect();
  try {
    const all = await admin.fetchTopicOffsets(topic);
    others = all.map((o) => o.partition).filter((p) => p !== partition);
    const offsets = all.find((o) => o.partition === partition);
    if (!offsets) throw new AdapterError('HISTORY_NO_PARTITION', `${topic} has no partition ${partition}`, false, { topic, partition });
    low = BigInt(offsets.low);
    const high = BigInt(offsets.high);
    from = low;
    if (range.sinceMs !== null) {
      const at = (await admin.fetchTopicOffsetsByTimestamp(topic, range.sinceMs)).find((o) => o.partition === partition);
      // -1 (no record at or after the time): nothing to read.
      const o = at ? BigInt(at.offset) : high;
      from = o < 0n ? high : o > low ? o : low;
    }
    end = range.until === null ? high : BigInt(range.until) < high ? BigInt(range.until) : high;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const reach = (records: number, first: number | null): HistoryReach => ({
    logStart: low.toString(),
    from: from.toString(),
    end: end.toString(),
    since: low === 0n ? Number.NEGATIVE_INFINITY : from > low && range.sinceMs !== null ? range.sinceMs : (first ?? now),
    records,
  });
  if (from >= end) return reach(0, null);

  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId: `${opts.groupIdPrefix ?? 'labelstream-history'}-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
    heartbeatInterval: 1000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  let records = 0;
  let first: number | null = null;
  let settle!: (err?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => settle(new AdapterError('HISTORY_READ_TIMEOUT', `reading ${topic}[${partition}] from ${from} to ${end} stalled for ${idleTimeoutMs} ms`, true, { topic, partition })),
      idleTimeoutMs,
    );
  };
  let next = from;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    arm();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (batch.partition !== partition || next >= end) return;
        // A fetch made before the seek took effect starts at the end (or later): not ours.
        const head = batch.messages[0];
        if (!head || BigInt(head.offset) >= end) return;
        const list = batch.messages.filter((m) => BigInt(m.offset) >= next && BigInt(m.offset) < end);
        if (list.length) {
          if (first === null && from === low) first = Number(list[0]!.timestamp);
          await onRecords(list);
          records += list.length;
          next = BigInt(list[list.length - 1]!.offset) + 1n;
          await heartbeat();
        }
        // A transaction marker just before `end` is never delivered, but counts in lastOffset.
        if (BigInt(batch.lastOffset()) + 1n >= end) next = end;
        arm();
        if (next >= end) settle();
      },
    });
    // run() has joined the group: pause what is not ours, seek ours (from the next fetch on).
    if (others.length) consumer.pause([{ topic, partitions: others }]);
    consumer.seek({ topic, partition, offset: from.toString() });
    await finished;
    return reach(records, first);
  } finally {
    clearTimeout(idle);
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * The customer events of one page of the input's history (labels.customer-events.v1, keyed
 * by customerId), as a backfill counts them — the evaluator's switch and the dry run
 * (`labelstream rules diff`) alike: a record whose key `keep` refuses (another pass's
 * customer) is skipped before decoding; one that does not decode is left out, since live
 * it was dead-lettered and never counted; a retriable failure (the registry unreachable)
 * throws, so no event is silently missed.
 */
export async function decodeCustomerHistory(registry: Registry, records: readonly KafkaMessage[], keep: (customerId: string) => boolean): Promise<CustomerEvent[]> {
  const events: CustomerEvent[] = [];
  for (const m of records) {
    if (m.key && !keep(m.key.toString())) continue;
    try {
      events.push(registry.decodeIfLoaded<CustomerEvent>(m.value, customerEventType) ?? (await registry.decode<CustomerEvent>(m.value, customerEventType)));
    } catch (err) {
      if (isRetriable(err)) throw err;
    }
  }
  return events;
}
