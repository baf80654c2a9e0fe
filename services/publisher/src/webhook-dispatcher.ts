import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { labelEventType, type LabelEvent } from '@labelstream/contracts';
import {
  ensureTopics,
  isRetriable,
  sendAll,
  sleep,
  toDeadLetter,
  type Batch,
  type BatchContext,
  type Registry,
  type RetryBounds,
  createResilientRunner,
  type ResilientRunner,
} from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { PUBLIC_HEADERS, WEBHOOK_DLQ_HEADERS, WEBHOOK_DLQ_REASONS, matchesLabelFilter, type WebhookDestination } from '@labelstream/publishing';

const PUBLIC_HEADER_NAMES: readonly string[] = Object.values(PUBLIC_HEADERS);
import { PartitionInactiveError } from './errors';
import { deliver, type AttemptReport, type DeliveryResult } from './webhook-delivery';

export interface WebhookDispatcherOptions {
  kafka: Kafka;
  registry: Registry;
  logger: Logger;
  metrics: Metrics;
  /** Shared producer for dead letters (connected by the caller). */
  producer: Producer;
  /** The public label-events topic. */
  topic: string;
  destination: WebhookDestination;
  /** The HMAC secret (read by main.ts from `destination.secretEnv`; never logged). */
  secret: string;
  topicDefaults: { partitions: number; replicationFactor: number };
  /** Commit delivery progress inside a long batch at most this often (default 1000 ms). */
  commitIntervalMs?: number;
  shutdownTimeoutMs?: number;
  sessionTimeoutMs?: number;
  /** Bounds on retrying a batch through outages (the runner's defaults when unset). */
  retry?: RetryBounds;
  fetch?: typeof fetch;
  random?: () => number;
  now?: () => number;
  /** Called once if this destination's consumer stopped for good. */
  onFatal?: (err: Error) => void;
}

export interface WebhookDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  status(): Record<string, unknown>;
}

/** Waits `ms`, heartbeating every second so a long backoff does not cost the group membership. */
async function sleepWithHeartbeat(ms: number, signal: AbortSignal, heartbeat: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0 || signal.aborted) return;
    await sleep(Math.min(left, 1000), signal);
    await heartbeat();
  }
}

/**
 * Delivers the public label events to one webhook destination. It is its own consumer
 * group on the label-events topic, so a slow or dead receiver holds back only itself:
 * never the Kafka outputs, never another destination. Within a partition, deliveries are
 * sequential (per-customer order); up to `concurrency` partitions are delivered at once.
 * After `maxAttempts` (or a non-retriable answer) the record goes to the destination's
 * dead-letter topic and delivery moves on. Offsets are committed only past delivered or
 * dead-lettered records, so delivery is at-least-once across restarts (receivers dedupe on
 * `x-labelstream-event-id`).
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions): WebhookDispatcher {
  const { destination: dest, metrics, registry } = opts;
  const logger = opts.logger.child({ component: 'webhook', destination: dest.name });
  const labels = { destination: dest.name };
  const commitIntervalMs = opts.commitIntervalMs ?? 1000;
  /** Next offset not yet handled, per partition, in the current assignment (a retried batch skips what is done). */
  const progress = new Map<number, bigint>();
  let runner: ResilientRunner | undefined;
  let delivered = 0;
  let deadLettered = 0;

  function onAttempt(report: AttemptReport): void {
    metrics.webhookAttempts.inc({ ...labels, outcome: report.outcome });
    metrics.webhookLatency.observe(labels, report.latencyMs / 1000);
    if (report.outcome !== '2xx') logger.debug({ attempt: report.attempt, status: report.status, error: report.error, message: report.message }, 'webhook attempt failed');
  }

  async function deadLetter(m: KafkaMessage, partition: number, reason: string, message: string, extra: Record<string, string>): Promise<void> {
    // A label event's own headers (ls-seq, …) are the pipeline's, not a producer's: kept, so
    // the dead letter can be re-driven in order.
    const dl = toDeadLetter(m, { topic: opts.topic, partition }, { reason, message }, { keepHeaders: PUBLIC_HEADER_NAMES });
    dl.headers = { ...(dl.headers as IHeaders), [WEBHOOK_DLQ_HEADERS.destination]: dest.name, ...extra };
    await sendAll(opts.producer, new Map([[dest.deadLetterTopic, [dl]]]));
    metrics.webhookDeadLetters.inc(labels);
    metrics.deadLettered.inc({ topic: dest.deadLetterTopic, reason });
    deadLettered++;
  }

  function resultHeaders(r: Extract<DeliveryResult, { last: AttemptReport }>): Record<string, string> {
    return {
      [WEBHOOK_DLQ_HEADERS.attempts]: String(r.attempts),
      ...(r.last.status !== undefined ? { [WEBHOOK_DLQ_HEADERS.lastStatus]: String(r.last.status) } : {}),
      ...(r.last.error ? { [WEBHOOK_DLQ_HEADERS.lastError]: `${r.last.error}${r.last.message ? `: ${r.last.message}` : ''}` } : {}),
    };
  }

  async function handleOne(m: KafkaMessage, partition: number, ctx: BatchContext): Promise<void> {
    let event: LabelEvent;
    try {
      event = registry.decodeIfLoaded<LabelEvent>(m.value, labelEventType) ?? (await registry.decode<LabelEvent>(m.value, labelEventType));
    } catch (err) {
      if (isRetriable(err)) throw err;
      logger.error({ err, partition, offset: m.offset }, 'undecodable label event: dead-lettered');
      await deadLetter(m, partition, WEBHOOK_DLQ_REASONS.undecodable, (err as Error).message, {});
      return;
    }
    if (!matchesLabelFilter(dest.labels, event.label)) return;
    const result = await deliver(
      { url: dest.url, secret: opts.secret, body: JSON.stringify(event), eventId: event.eventId, timeoutMs: dest.timeoutMs },
      dest,
      {
        fetch: opts.fetch ?? fetch,
        now: opts.now ?? Date.now,
        random: opts.random ?? Math.random,
        sleep: (ms, signal) => sleepWithHeartbeat(ms, signal, ctx.heartbeat),
        signal: ctx.signal,
        onAttempt,
      },
    );
    if (result.kind === 'aborted') throw new PartitionInactiveError(opts.topic, partition);
    if (result.kind === 'delivered') {
      delivered++;
      return;
    }
    const reason = result.kind === 'rejected' ? WEBHOOK_DLQ_REASONS.rejected : WEBHOOK_DLQ_REASONS.exhausted;
    logger.warn({ eventId: event.eventId, partition, offset: m.offset, attempts: result.attempts, status: result.last.status, error: result.last.error }, 'webhook delivery failed: dead-lettered');
    await deadLetter(m, partition, reason, `${result.kind} after ${result.attempts} attempt(s)`, resultHeaders(result));
  }

  async function handle(batch: Batch, ctx: BatchContext): Promise<void> {
    const partition = batch.partition;
    const from = progress.get(partition) ?? -1n;
    const todo = batch.messages.filter((m) => BigInt(m.offset) >= from);
    let left = todo.length;
    metrics.webhookQueue.inc(labels, left);
    let lastCommit = Date.now();
    try {
      for (const m of todo) {
        if (!ctx.isActive()) throw new PartitionInactiveError(opts.topic, partition);
        await handleOne(m, partition, ctx);
        const next = BigInt(m.offset) + 1n;
        progress.set(partition, next);
        left--;
        metrics.webhookQueue.dec(labels);
        if (Date.now() - lastCommit >= commitIntervalMs && left > 0) {
          // A slow receiver can take minutes over one batch: save progress on the way so a
          // crash repeats little. The runner commits the end of the batch.
          await runner!.commit([{ topic: batch.topic, partition, offset: next.toString() }]);
          lastCommit = Date.now();
        }
      }
    } finally {
      if (left > 0) metrics.webhookQueue.dec(labels, left);
    }
  }

  return {
    async start() {
      const admin = opts.kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [{ topic: dest.deadLetterTopic, numPartitions: opts.topicDefaults.partitions, replicationFactor: opts.topicDefaults.replicationFactor }]);
      } finally {
        await admin.disconnect();
      }
      runner = createResilientRunner({
        kafka: opts.kafka,
        groupId: dest.groupId,
        topics: [opts.topic],
        handler: handle,
        logger,
        metrics,
        fromBeginning: dest.startFrom === 'earliest',
        concurrency: dest.concurrency,
        ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
        ...(opts.shutdownTimeoutMs ? { shutdownTimeoutMs: opts.shutdownTimeoutMs } : {}),
        ...(opts.retry ? { retry: opts.retry } : {}),
        onAssignment: () => progress.clear(),
        // The service's lifecycle logs it (fatal) and drains; without one, say it here.
        onFatal: (err) => (opts.onFatal ? opts.onFatal(err) : logger.error({ err }, 'webhook destination stopped consuming for good')),
      });
      await runner.start();
      logger.info({ url: new URL(dest.url).origin, groupId: dest.groupId, deadLetterTopic: dest.deadLetterTopic, concurrency: dest.concurrency }, 'webhook destination started');
    },
    stop: async () => runner?.stop(),
    isReady: () => runner?.isReady() ?? false,
    status: () => ({ ...(runner?.status() ?? { started: false }), delivered, deadLettered }),
  };
}
