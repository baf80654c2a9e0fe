import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { labelEventType, type LabelEvent } from '@labelstream/contracts';
import type { Registry } from '@labelstream/kafka';
import type { ReportEvent } from './model';

export interface ReadProgress {
  readonly read: number;
  readonly total: number;
  readonly partitionsDone: number;
  readonly partitions: number;
}

export interface ReadLabelEventsOptions {
  /** Called at most every `progressEveryMs` (and once at the end). */
  readonly onProgress?: (p: ReadProgress) => void;
  readonly progressEveryMs?: number;
  /** Give up when nothing new arrives for this long (default 30 s). */
  readonly stallTimeoutMs?: number;
}

/**
 * Reads `topic` from the beginning up to the high watermarks taken at the start, then
 * stops: events published meanwhile are left for the next report. A throw-away consumer
 * group that never commits. A partition counts as done when a fetched batch reaches its
 * start-time high watermark, control records (transaction markers) included, so a
 * transactional topic does not wait for a data record that never comes.
 */
export async function readLabelEvents(kafka: Kafka, registry: Registry, topic: string, opts: ReadLabelEventsOptions = {}): Promise<ReportEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  /** partition → last offset to reach */
  const targets = new Map<number, bigint>();
  let total = 0;
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`report: topic ${topic} does not exist (is the pipeline running? --topic names another)`);
    for (const o of await admin.fetchTopicOffsets(topic)) {
      const high = BigInt(o.high);
      const low = BigInt(o.low);
      if (high > low) {
        targets.set(o.partition, high - 1n);
        total += Number(high - low);
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const partitions = targets.size;
  const events: ReportEvent[] = [];
  if (!partitions) return events;

  const consumer = kafka.consumer({ groupId: `labelstream-report-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  const done = new Set<number>();
  let lastNews = Date.now();
  let finish!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
  const progress = () => opts.onProgress?.({ read: events.length, total, partitionsDone: done.size, partitions });
  const timer = setInterval(() => {
    progress();
    const stall = opts.stallTimeoutMs ?? 30_000;
    if (Date.now() - lastNews > stall) finish(new Error(`report: no new label events from ${topic} for ${stall / 1000} s (${done.size} of ${partitions} partitions read to their end)`));
  }, opts.progressEveryMs ?? 500);
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const target = targets.get(payload.partition);
    if (target !== undefined && BigInt(payload.lastOffset) >= target) done.add(payload.partition);
    if (done.size === partitions) finish();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const target = targets.get(batch.partition);
        for (const m of batch.messages) {
          if (target === undefined || BigInt(m.offset) > target) break;
          const e = await registry.decode<LabelEvent>(m.value, labelEventType);
          events.push({ eventId: e.eventId, type: e.type, customerId: e.customerId, label: e.label, category: e.category, effectiveAt: Number(e.effectiveAt), rulesVersion: e.rulesVersion });
        }
        lastNews = Date.now();
        await heartbeat();
      },
    });
    await finished;
  } finally {
    clearInterval(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  progress();
  return events;
}
