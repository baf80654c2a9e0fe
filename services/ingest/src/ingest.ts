import type { Message, Producer } from 'kafkajs';
import { COMPATIBILITY, customerEventSchema, customerEventType, subjectFor, type CustomerEvent, type EventType } from '@labelstream/contracts';
import type { IngestConfig } from '@labelstream/config';
import {
  checkRawEnvelope,
  isConfluentFramed,
  normaliseDecoded,
  normaliseJson,
  type IngestPolicy,
  type NormaliseResult,
  type RawKind,
  type RawMessage,
} from '@labelstream/ingest-core';
import { sendChunked, toDeadLetter, type Batch, type BatchContext, type Registry } from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { rejectionForDecodeError } from './decode-errors';
import { BatchAbandonedError, IngestNotInitialisedError, UnknownRawTopicError } from './errors';
import { InFlight } from './in-flight';
import { toRawMessage } from './raw-message';
import { resolveRawTopics } from './topics';

/** Topic names ingest reads and writes. */
export interface IngestTopics {
  readonly raw: IngestConfig['rawTopics'];
  readonly customerEvents: string;
  readonly dlq: string;
}

/** What {@link createIngest} needs; main.ts builds the real ones, tests may pass fakes. */
export interface IngestDeps {
  /** Registers the canonical schema at init, decodes framed raw values with their writer schema. */
  readonly registry: Pick<Registry, 'register' | 'encoder' | 'decodeWithWriter'>;
  /** An idempotent producer (createProducer): every batch's output goes out through `sendChunked`. */
  readonly producer: Producer;
  readonly policy: IngestPolicy;
  readonly topics: IngestTopics;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Wall clock for `ingestedAt`, the lateness window and `ls-dlq-failed-at`; injectable for tests. */
  readonly now?: () => number;
  /** Heartbeat (and check for revocation) every this many messages of a batch (default 1000). */
  readonly heartbeatEvery?: number;
  /**
   * The DLQ topic's `max.message.bytes`, as read at start-up (default: no limit). A reject
   * whose full copy would not fit is dead-lettered truncated (prefix, size, SHA-256), so a
   * record too large for the DLQ never stops its partition.
   */
  readonly dlqMaxRecordBytes?: number;
}

/** Totals of acknowledged output since start (for the info-level summary log). */
export interface IngestStats {
  consumed: number;
  produced: number;
  deadLettered: number;
  byReason: Record<string, number>;
}

/** The ingest handler: `init()` once, then hand `handleBatch` to the consumer runner subscribed to `rawTopics`. */
export interface Ingest {
  /** The raw topics to subscribe to. */
  readonly rawTopics: readonly string[];
  /** Registers the canonical schema (subjectFor(customerEvents), COMPATIBILITY); returns its id. Call before consuming. */
  init(): Promise<number>;
  /** Validates, normalises and re-keys one batch of one raw partition; returns once all its output is acknowledged. */
  handleBatch(batch: Batch, ctx: BatchContext): Promise<void>;
  /** Acknowledged totals since start. */
  stats(): IngestStats;
  /**
   * Graceful stop, step one (before the runner's stop): batches already in progress finish
   * — produce and return, so the runner commits them while the consumer still runs (kafkajs
   * silently skips commits once `consumer.stop()` began) — and batches handed over after
   * this wait for the runner's shutdown signal and are abandoned uncommitted. Resolves
   * when the in-progress batches settled, or after `timeoutMs`. Returns how many there were.
   */
  drain(timeoutMs: number): Promise<number>;
}

const EVENT_TYPE: Readonly<Record<RawKind, EventType>> = {
  purchase: 'PURCHASE',
  'email-click': 'EMAIL_CLICK',
  'support-ticket': 'SUPPORT_TICKET',
};

/**
 * The ingest service's core: per batch of one raw partition, it validates and normalises
 * every message (JSON, or Confluent-Avro decoded with its writer schema), encodes accepted
 * events as Confluent-Avro `CustomerEvent`s keyed by customerId, turns rejects into DLQ
 * records (original bytes and headers, plus the reason), and sends both acknowledged
 * (acks=-1), in produce requests of at most 512 KiB. Only then does it return, and only
 * then does the runner commit the batch's offsets: at-least-once, with no message ever
 * blocking its partition.
 *
 * Message order is kept: canonical records are sent in the batch's order, one request after
 * the other, and a request keeps order per output partition, so one customer's events stay
 * in order.
 */
export function createIngest(deps: IngestDeps): Ingest {
  const { registry, producer, policy, topics, logger, metrics } = deps;
  const clock = deps.now ?? Date.now;
  const heartbeatEvery = Math.max(1, deps.heartbeatEvery ?? 1000);
  const dlqMaxRecordBytes = deps.dlqMaxRecordBytes ?? Number.POSITIVE_INFINITY;
  const kinds = resolveRawTopics(topics.raw, topics);
  let encode: ((event: CustomerEvent) => Buffer) | undefined;
  const totals: IngestStats = { consumed: 0, produced: 0, deadLettered: 0, byReason: {} };

  async function init(): Promise<number> {
    const id = await registry.register(subjectFor(topics.customerEvents), customerEventSchema, COMPATIBILITY);
    encode = registry.encoder<CustomerEvent>(id, customerEventType);
    logger.info({ subject: subjectFor(topics.customerEvents), schemaId: id }, 'canonical schema registered');
    return id;
  }

  /** Framed values are decoded by the registry; registry outages propagate (retry), bad bytes are rejected. */
  async function normaliseFramed(raw: RawMessage, value: Buffer, now: number): Promise<NormaliseResult> {
    let decoded: unknown;
    try {
      decoded = (await registry.decodeWithWriter(value)).value;
    } catch (err) {
      const rejection = rejectionForDecodeError(err);
      if (rejection === null) throw err;
      return rejection;
    }
    return normaliseDecoded(raw.kind, decoded, raw, policy, now);
  }

  const inFlight = new InFlight();
  let draining = false;

  function handleBatch(batch: Batch, ctx: BatchContext): Promise<void> {
    return draining ? abandonWhenStopped(batch, ctx) : inFlight.track(processBatch(batch, ctx));
  }

  /** A batch handed over while draining: produce nothing, and give it up once the runner stops. */
  async function abandonWhenStopped(batch: Batch, ctx: BatchContext): Promise<void> {
    if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    throw new BatchAbandonedError({ topic: batch.topic, partition: batch.partition, processed: 0, total: batch.messages.length });
  }

  async function drain(timeoutMs: number): Promise<number> {
    draining = true;
    const waited = await inFlight.settle(timeoutMs);
    // Let the runner's continuation (resolve + commit) start before the caller stops it.
    if (waited > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    return waited;
  }

  async function processBatch(batch: Batch, ctx: BatchContext): Promise<void> {
    const kind = kinds.get(batch.topic);
    if (kind === undefined) throw new UnknownRawTopicError(batch.topic);
    if (encode === undefined) throw new IngestNotInitialisedError();
    const encodeEvent = encode;
    const now = clock();
    const canonical: Message[] = [];
    const dead: Message[] = [];
    const reasons = new Map<string, number>();
    const debug = logger.isLevelEnabled('debug');
    const { messages } = batch;
    const abandonIfInactive = (processed: number) => {
      if (!ctx.isActive()) throw new BatchAbandonedError({ topic: batch.topic, partition: batch.partition, processed, total: messages.length });
    };

    for (let i = 0; i < messages.length; i++) {
      if (i > 0 && i % heartbeatEvery === 0) {
        abandonIfInactive(i);
        await ctx.heartbeat();
      }
      const m = messages[i]!;
      const raw = toRawMessage(kind, batch, m);
      const early = checkRawEnvelope(raw, policy);
      const value = raw.value;
      const result = early ?? (value !== null && isConfluentFramed(value) ? await normaliseFramed(raw, value, now) : normaliseJson(raw, policy, now));
      if (result.ok) {
        canonical.push({ key: result.event.customerId, value: encodeEvent(result.event) });
        continue;
      }
      dead.push(toDeadLetter(m, batch, { reason: result.reason, message: result.message, ...(result.path ? { path: result.path } : {}) }, { now, maxRecordBytes: dlqMaxRecordBytes }));
      reasons.set(result.reason, (reasons.get(result.reason) ?? 0) + 1);
      // Reason and position only: never the value, which may hold personal data.
      if (debug) logger.debug({ reason: result.reason, path: result.path, topic: batch.topic, partition: batch.partition, offset: m.offset }, 'raw message rejected');
    }

    // Nothing has been sent yet: if the partition moved on, leave the whole batch to its new owner.
    abandonIfInactive(messages.length);
    // In requests that fit the broker's limit: a backlog makes a batch's output several MiB,
    // and one request that large fails for good (MESSAGE_TOO_LARGE is not retriable).
    await sendChunked(
      producer,
      new Map([
        [topics.customerEvents, canonical],
        [topics.dlq, dead],
      ]),
    );

    const type = EVENT_TYPE[kind];
    metrics.eventsConsumed.inc({ topic: batch.topic, type }, messages.length);
    if (canonical.length) metrics.eventsProduced.inc({ topic: topics.customerEvents, type }, canonical.length);
    for (const [reason, n] of reasons) {
      metrics.deadLettered.inc({ topic: topics.dlq, reason }, n);
      totals.byReason[reason] = (totals.byReason[reason] ?? 0) + n;
    }
    totals.consumed += messages.length;
    totals.produced += canonical.length;
    totals.deadLettered += dead.length;
  }

  return {
    rawTopics: [...kinds.keys()],
    init,
    handleBatch,
    stats: () => ({ ...totals, byReason: { ...totals.byReason } }),
    drain,
  };
}
