/**
 * Helpers shared by the publisher's integration tests (test/integration/publisher*.itest.ts,
 * webhooks*.itest.ts): a fake evaluator that writes well-formed decisions through the real
 * registry, readers of whole topics, and a wait for a consumer group to catch up.
 * Not part of the service build.
 */
import { Writable } from 'node:stream';
import type { Admin, Kafka, KafkaMessage, Producer } from 'kafkajs';

export { ConfigResourceTypes } from 'kafkajs';
export type { Producer } from 'kafkajs';
import { COMPATIBILITY, labelDecisionSchema, labelDecisionType, subjectFor, type ChangeKind, type LabelDecision } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { createLogger, createMetrics, type Logger } from '@labelstream/observability';
import { createTestTopics, uniqueName, waitFor } from '@labelstream/testkit';
import type { PublisherTopics } from '../src/publisher';

export const LABELS = [
  { label: 'high-value', category: 'value' },
  { label: 'engaged', category: 'behaviour' },
  { label: 'inactive', category: 'behaviour' },
  { label: 'vip', category: 'custom' },
] as const;

/** A logger that writes nowhere, unless LOG_TESTS=1. */
export function testLogger(): Logger {
  // eslint-disable-next-line no-restricted-syntax
  if (process.env.LOG_TESTS) return createLogger({ service: 'publisher-test', level: 'debug' });
  return createLogger({ service: 'publisher-test', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

export function testMetrics() {
  return createMetrics('publisher-test', { defaultMetrics: false });
}

/** Fresh topic names for one test (`labels.*` style names with a unique suffix). */
export function testTopics(prefix: string): Required<PublisherTopics> {
  const id = uniqueName(prefix);
  return {
    customerEvents: `${id}.customer-events`,
    decisions: `${id}.decisions`,
    labelEvents: `${id}.label-events`,
    customerLabels: `${id}.customer-labels`,
    dlq: `${id}.dlq`,
  };
}

/** Creates the decisions topic with `partitions` (the publisher creates its outputs with the same count). */
export async function createDecisionTopics(admin: Admin, topics: PublisherTopics, partitions: number): Promise<void> {
  await createTestTopics(admin, [{ topic: topics.decisions, partitions }]);
}

/** A tiny deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Stands in for the evaluator: keeps each customer's label set, and per partition a
 * gap-free seq, and makes decisions that toggle one or two labels.
 */
export class FakeEvaluator {
  private readonly seq = new Map<number, number>();
  readonly labels = new Map<string, Set<string>>();
  readonly made: LabelDecision[] = [];
  private readonly random: () => number;

  constructor(
    readonly partitions: number,
    readonly customersPerPartition: number,
    seed = 1,
  ) {
    this.random = prng(seed);
  }

  customer(partition: number, i: number): string {
    return `c-${partition}-${i}`;
  }

  /** The next decision on `partition` for a random customer of it. */
  next(partition: number, opts: { at?: number; cause?: 'EVENT' | 'TIMER' } = {}): LabelDecision {
    const seq = (this.seq.get(partition) ?? 0) + 1;
    this.seq.set(partition, seq);
    const customerId = this.customer(partition, Math.floor(this.random() * this.customersPerPartition));
    const set = this.labels.get(customerId) ?? new Set<string>();
    const flips = LABELS.filter(() => this.random() < 0.4);
    if (!flips.length) flips.push(LABELS[Math.floor(this.random() * LABELS.length)]!);
    const changes = flips.map((l) => {
      const change: ChangeKind = set.has(l.label) ? 'REMOVED' : 'ASSIGNED';
      if (change === 'ASSIGNED') set.add(l.label);
      else set.delete(l.label);
      return { label: l.label, category: l.category, change, reason: change === 'ASSIGNED' ? 'enter' : 'exit', features: { score: Math.round(this.random() * 1000) / 10, tier: 'gold', flag: true, none: null } };
    });
    this.labels.set(customerId, set);
    const at = opts.at ?? Date.now();
    const kind = opts.cause ?? 'EVENT';
    const d: LabelDecision = {
      decisionId: `${partition}-${seq}`,
      sourcePartition: partition,
      seq,
      customerId,
      effectiveAt: at,
      decidedAt: at,
      labelCategories: {},
      rulesVersion: 'test-rules@1',
      cause: kind === 'EVENT' ? { kind, eventId: `ev-${partition}-${seq}`, eventType: 'PURCHASE', eventOccurredAt: at } : { kind, eventId: null, eventType: null, eventOccurredAt: at },
      changes,
      labels: [...set],
    };
    this.made.push(d);
    return d;
  }

  /** `n` decisions spread round-robin over the partitions. */
  many(n: number): LabelDecision[] {
    return Array.from({ length: n }, (_, i) => this.next(i % this.partitions));
  }
}

/** Writes decisions to the decisions topic as the evaluator does: Confluent-Avro, key = customerId, partition = sourcePartition. */
export class DecisionWriter {
  private encode?: (d: LabelDecision) => Buffer;
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly registry: Registry,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async connect(): Promise<void> {
    const id = await this.registry.register(subjectFor(this.topic), labelDecisionSchema, COMPATIBILITY);
    this.encode = this.registry.encoder<LabelDecision>(id, labelDecisionType);
    await this.producer.connect();
  }

  async send(decisions: LabelDecision[]): Promise<void> {
    if (!decisions.length) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: decisions.map((d) => ({ key: d.customerId, value: this.encode!(d), partition: d.sourcePartition })),
    });
  }

  /** One decision to an explicit partition (e.g. the wrong one). */
  async sendTo(partition: number, d: LabelDecision): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: d.customerId, value: this.encode!(d), partition }] });
  }

  /** Raw bytes, e.g. a poison message. */
  async sendRaw(partition: number, key: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value, partition }] });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

export type TopicRecord = KafkaMessage & { topic: string; partition: number };

/**
 * Every record of `topic` now on the broker, in partition order (waits until the high
 * watermarks are reached). A topic written with transactions ends in a marker that no
 * consumer is handed: pass `expectCount` (the data records expected) for those.
 */
export async function readTopic(kafka: Kafka, topic: string, opts: { timeoutMs?: number; expectCount?: number } = {}): Promise<TopicRecord[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const low = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
  const out: TopicRecord[] = [];
  const reached = new Set<number>([...want].filter(([p, h]) => h <= low.get(p)!).map(([p]) => p));
  if (reached.size === want.size) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const p = batch.partition;
      for (const message of batch.messages) if (BigInt(message.offset) < want.get(p)!) out.push({ ...message, topic, partition: p });
      if (BigInt(batch.lastOffset()) + 1n >= want.get(p)!) reached.add(p);
    },
  });
  try {
    const done = () => reached.size === want.size || (opts.expectCount !== undefined && out.length >= opts.expectCount);
    await waitFor(`all of ${topic}`, done, { timeoutMs, lastSeen: () => ({ read: out.length }) });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** Waits until `groupId` has committed the end of every partition of `topic`. */
export async function waitForCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  let last: unknown;
  await waitFor(
    `${groupId} to commit the end of ${topic}`,
    async () => {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const c = new Map(committed[0]!.partitions.map((p) => [p.partition, p.offset]));
      last = ends.map((e) => `${e.partition}:${c.get(e.partition)}/${e.high}`);
      return ends.every((e) => c.get(e.partition) === e.high);
    },
    { timeoutMs, intervalMs: 200, lastSeen: () => last },
  );
}

/** The decoded value of each record, with its record. */
export async function decodeAll<T>(registry: Registry, records: TopicRecord[], type: Parameters<Registry['decode']>[1]): Promise<Array<{ record: TopicRecord; value: T }>> {
  return Promise.all(records.map(async (record) => ({ record, value: await registry.decode<T>(record.value, type) })));
}

export function header(r: KafkaMessage, name: string): string | undefined {
  const v = r.headers?.[name];
  return v === undefined ? undefined : v.toString();
}
