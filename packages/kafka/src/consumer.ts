import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger, Metrics } from '@labelstream/observability';
import { backoffMs, sleep } from './backoff';
import { onUndecodableBatch, type UndecodableBatchContext, type UndecodableBatchError } from './codecs';
import { BatchFailedError, isRetriable } from './errors';
import { groupMembershipLoss } from './membership';

/** One fetched batch of one partition, as handed to a service's handler. */
export interface Batch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  highWatermark: string;
}

export interface BatchContext {
  /** Keep the group membership alive during long work (kafkajs only heartbeats between batches). */
  heartbeat(): Promise<void>;
  /** False once shutdown began or the partition was revoked: stop early, commit nothing. */
  isActive(): boolean;
  /** Aborts on shutdown; pass to waits. */
  signal: AbortSignal;
}

/**
 * Processes one batch. It must either finish the whole batch (every message produced or
 * dead-lettered) or throw; the runner then commits the batch's offsets, or retries it.
 */
export type BatchHandler = (batch: Batch, ctx: BatchContext) => Promise<void>;

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  logger: Logger;
  metrics: Metrics;
  fromBeginning?: boolean;
  /** Partitions processed in parallel by this member (default 6). */
  concurrency?: number;
  /**
   * Told of this member's full assignment after every join. A notification only (kafkajs
   * may hand out batches before it runs): work that must precede a partition's first batch
   * belongs in the handler.
   */
  onAssignment?: (assignment: Record<string, number[]>) => Promise<void> | void;
  /**
   * How long the group waits for a silent member before giving its partitions to others
   * (default {@link DEFAULT_SESSION_TIMEOUT_MS}); the member heartbeats every tenth of it.
   */
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Hands the handler at most this many messages at a time (default: the whole fetched
   * batch), committing offsets and heartbeating after each slice. Bounds the time of one
   * handler call — a backlog fetch can hold tens of thousands of messages per partition —
   * and the work a crash makes the next owner redo. Only for handlers whose output does not
   * depend on where batches are cut.
   */
  maxBatchMessages?: number;
  /**
   * Between the slices of one fetched batch, offsets are committed at most this often
   * (default 1 s); the batch's last slice always commits.
   */
  commitIntervalMs?: number;
  /** Upper bound on shutdown (stop fetching, finish or abandon the batch, leave the group). */
  shutdownTimeoutMs?: number;
  /**
   * Bounds on retrying one batch after retriable errors: at most `maxAttempts` handler calls
   * (default 100) and `budgetMs` since the first failure (default 5 min), whichever comes
   * first. Then the runner gives up as on a non-retriable error: one fatal log line, and the
   * consumer stops for good (kafkajs CRASH with `restart: false`), so the service exits and
   * its orchestrator restarts it — never a process that is up, not ready and stuck.
   */
  retry?: RetryBounds;
}

/** See {@link ConsumerRunnerOptions.retry}. */
export interface RetryBounds {
  maxAttempts?: number;
  budgetMs?: number;
}

/**
 * Default consumer group session timeout, and the services' (`CONSUMER_SESSION_TIMEOUT`):
 * the time a crashed member's partitions stand still before others take them over. 8 s
 * keeps that, plus the replacement's join, within the 10 s recovery target with a margin
 * (docs/RELIABILITY.md); the broker refuses less than 6 s (`group.min.session.timeout.ms`).
 */
export const DEFAULT_SESSION_TIMEOUT_MS = 8000;

/**
 * kafkajs' session timeout and heartbeat interval for a session timeout (default
 * {@link DEFAULT_SESSION_TIMEOUT_MS}): several heartbeats per session, so that one late
 * heartbeat does not expel the member — a tenth of it, within 0.3–3 s.
 */
export function groupTimings(sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS): { sessionTimeout: number; heartbeatInterval: number } {
  return { sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.max(300, Math.min(3000, Math.floor(sessionTimeoutMs / 10))) };
}

/** Defaults of {@link RetryBounds}: long enough to ride out broker and Redis restarts. */
export const DEFAULT_RETRY_BOUNDS: Required<RetryBounds> = Object.freeze({ maxAttempts: 100, budgetMs: 5 * 60_000 });

export interface ConsumerRunner {
  consumer: Consumer;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Joined a group and holds at least one partition. */
  isReady(): boolean;
  assignment(): Record<string, number[]>;
  status(): Record<string, unknown>;
}

/** Offsets of one fetched batch: resolved but not committed yet, and when it last committed. */
interface SliceProgress {
  committedAt: number;
  pending: string | undefined;
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<'timeout'>((resolve) => {
      t = setTimeout(() => resolve('timeout'), ms);
      t.unref();
    }),
  ]).then((r) => {
    if (r === 'timeout') throw new Error(`${what} did not finish within ${ms} ms`);
    return r;
  });
}

/**
 * At-least-once batch consumption with explicit commits: offsets are committed only after
 * the handler finished the batch (so after its output was acknowledged). Retriable
 * failures (broker, registry or Redis outages) retry the same batch with backoff while
 * heartbeating; the handler dead-letters bad messages itself, so nothing poisons a
 * partition. Shutdown is bounded.
 */
export function createConsumerRunner(opts: ConsumerRunnerOptions): ConsumerRunner {
  const { logger, metrics } = opts;
  const bounds = { ...DEFAULT_RETRY_BOUNDS, ...opts.retry };
  const commitIntervalMs = opts.commitIntervalMs ?? 1000;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    ...groupTimings(opts.sessionTimeoutMs),
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    // Once the runner gave up on a batch, kafkajs must not restart the consumer: its crash
    // error keeps only the cause, and a retriable cause would make it start over.
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => gaveUp === undefined },
  });
  const abort = new AbortController();
  let joined = false;
  let crashed: string | undefined;
  /** Set when a batch failed for good: the consumer stays stopped. */
  let gaveUp: BatchFailedError | undefined;
  let current: Record<string, number[]> = {};
  let retrying = 0;
  let stopping = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  // Batches our fetches could not decompress, by "topic/partition". kafkajs fails the whole
  // fetch inside its own retry loop, before any handler runs: say where (log, metric) and
  // stay not ready until the partition moves on — an operator skips the batch (RUNBOOK).
  const undecodable = new Map<string, UndecodableBatchContext>();
  const onUndecodable = (err: UndecodableBatchError): void => {
    const { topic, partition, baseOffset, lastOffset, codec } = err.context;
    if (topic !== undefined && !opts.topics.includes(topic)) return; // another consumer's
    undecodable.set(`${topic ?? '?'}/${partition ?? '?'}`, err.context);
    metrics.undecodableBatches.inc({ topic: topic ?? 'unknown', partition: partition === undefined ? 'unknown' : String(partition) });
    logger.error({ err, topic, partition, offset: baseOffset, lastOffset, codec }, 'cannot decompress a record batch; its partition is stuck until the batch is skipped (RUNBOOK: undecodable batch)');
  };
  let stopListening: (() => void) | undefined;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    crashed = undefined;
    current = e.payload.memberAssignment as Record<string, number[]>;
    for (const [key, c] of undecodable) if (c.topic !== undefined && !current[c.topic]?.includes(c.partition!)) undecodable.delete(key);
    metrics.rebalances.inc();
    for (const t of opts.topics) metrics.assignedPartitions.set({ topic: t }, current[t]?.length ?? 0);
    logger.info({ assignment: current, memberId: e.payload.memberId }, 'joined consumer group');
  });
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    crashed = String(e.payload.error?.message ?? 'crash');
    // A batch the runner gave up on was logged (fatal) when it did.
    if (!gaveUp) logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
  });
  consumer.on(consumer.events.DISCONNECT, () => {
    joined = false;
  });
  consumer.on(consumer.events.STOP, () => {
    joined = false;
  });

  const eachBatch = async (p: EachBatchPayload): Promise<void> => {
    if (stopping) return; // nothing resolved: re-read after the restart
    inFlight++;
    try {
      await processBatch(p);
    } finally {
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  };

  const processBatch = async (p: EachBatchPayload): Promise<void> => {
    const { batch } = p;
    if (batch.isEmpty()) return;
    const max = Math.max(1, opts.maxBatchMessages ?? batch.messages.length);
    const progress: SliceProgress = { committedAt: Date.now(), pending: undefined };
    for (let from = 0; from < batch.messages.length; from += max) {
      if (from > 0 && stopping) {
        // The rest is re-read after the restart; what is done is committed first.
        await commitPending(p, progress);
        return;
      }
      const to = Math.min(batch.messages.length, from + max);
      // The last slice commits up to the batch's own last offset (past trailing control records).
      const last = to === batch.messages.length ? batch.lastOffset() : batch.messages[to - 1]!.offset;
      if (!(await processSlice(p, batch.messages.slice(from, to), last, to === batch.messages.length, progress))) return;
    }
  };

  /**
   * Commits the offset resolved last, if not committed yet. Slices of one batch commit at
   * most every `commitIntervalMs` (the batch's last slice always): each commit is a round
   * trip to the group coordinator, and a crash in between only means slices re-read —
   * which the handlers already tolerate (at-least-once; they dedupe).
   */
  const commitPending = async (p: EachBatchPayload, progress: SliceProgress): Promise<void> => {
    if (progress.pending === undefined) return;
    const { batch } = p;
    try {
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(progress.pending) }]);
    } catch (err) {
      throw groupMembershipLoss(err) ?? err;
    }
    progress.pending = undefined;
    progress.committedAt = Date.now();
  };

  /** Runs the handler on one slice until it succeeds, then commits (see commitPending); false when the partition was revoked. */
  const processSlice = async (p: EachBatchPayload, messages: KafkaMessage[], last: string, lastOfBatch: boolean, progress: SliceProgress): Promise<boolean> => {
    const { batch } = p;
    const started = process.hrtime.bigint();
    const ctx: BatchContext = {
      heartbeat: () => p.heartbeat(),
      isActive: () => p.isRunning() && !p.isStale() && !abort.signal.aborted,
      signal: abort.signal,
    };
    let firstFailure: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (!ctx.isActive()) return false; // nothing resolved: the next owner re-reads from the last commit
      try {
        await opts.handler({ topic: batch.topic, partition: batch.partition, messages, highWatermark: batch.highWatermark }, ctx);
        break;
      } catch (err) {
        const rebalance = groupMembershipLoss(err);
        if (rebalance) throw rebalance; // not an error of ours: kafkajs re-joins, the batch is re-read
        const code = (err as { code?: string }).code ?? (err as Error).name ?? 'UNKNOWN';
        metrics.retries.inc({ code });
        metrics.errors.inc({ code });
        // Revoked or shutting down while it failed: leave the batch to the next owner / the restart.
        if (!ctx.isActive()) return false;
        firstFailure ??= Date.now();
        const elapsedMs = Date.now() - firstFailure;
        const wait = backoffMs(attempt);
        const retriable = isRetriable(err);
        if (!retriable || attempt + 1 >= bounds.maxAttempts || elapsedMs + wait > bounds.budgetMs) {
          // A bug, not bad input (handlers dead-letter bad input), or an outage longer than
          // the budget: stop for good, without committing, rather than skip data or stall.
          const failed = new BatchFailedError(
            retriable ? 'RETRIES_EXHAUSTED' : 'NOT_RETRIABLE',
            { topic: batch.topic, partition: batch.partition, attempts: attempt + 1, elapsedMs, firstOffset: messages[0]?.offset, lastOffset: last },
            { cause: err },
          );
          crashed = failed.message;
          // One line for the first failure; batches of other partitions failing meanwhile add none.
          if (!gaveUp) logger.fatal({ err, code: failed.code, ...failed.context }, `${failed.message}; stopping the consumer (the process should exit and be restarted)`);
          gaveUp ??= failed;
          throw failed;
        }
        retrying++;
        logger.warn({ err, topic: batch.topic, partition: batch.partition, attempt, waitMs: wait }, 'retriable error; retrying batch');
        await sleep(wait, abort.signal);
        retrying--;
        await p.heartbeat().catch(() => undefined);
      }
    }
    // Revoked while we worked: the next owner re-reads the batch; committing now could
    // skip work the handler abandoned.
    if (!p.isRunning() || p.isStale()) return false;
    p.resolveOffset(last);
    progress.pending = last;
    if (lastOfBatch || stopping || Date.now() - progress.committedAt >= commitIntervalMs) await commitPending(p, progress);
    try {
      await p.heartbeat();
    } catch (err) {
      throw groupMembershipLoss(err) ?? err;
    }
    undecodable.delete(`${batch.topic}/${batch.partition}`);
    undecodable.delete('?/?'); // a fetch went through: an unplaced failure is not ours any more
    metrics.batchDuration.observe({ topic: batch.topic }, Number(process.hrtime.bigint() - started) / 1e9);
    metrics.batchSize.observe({ topic: batch.topic }, messages.length);
    const lag = Number(BigInt(batch.highWatermark) - BigInt(last) - 1n);
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
    return true;
  };

  return {
    consumer,
    async start() {
      stopListening ??= onUndecodableBatch(onUndecodable);
      await consumer.connect();
      await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
      if (opts.onAssignment) {
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          Promise.resolve(opts.onAssignment?.(e.payload.memberAssignment as Record<string, number[]>)).catch((err: unknown) =>
            logger.error({ err }, 'assignment hook failed'),
          );
        });
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.concurrency ?? 6,
        eachBatch,
      });
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      stopListening?.();
      const bound = opts.shutdownTimeoutMs ?? 10_000;
      // Let batches in progress finish and commit first: kafkajs ignores commits once
      // consumer.stop() has begun, which would turn every clean stop into re-deliveries.
      if (inFlight > 0) {
        const drained = new Promise<void>((resolve) => (idle = resolve));
        await withTimeout(drained, Math.round(bound * 0.4), 'in-flight batches').catch((err: unknown) =>
          logger.warn({ err, inFlight }, 'batches still running at shutdown; abandoning them (they will be re-read)'),
        );
      }
      abort.abort();
      try {
        await withTimeout(consumer.stop(), bound, 'consumer stop');
      } catch (err) {
        logger.warn({ err }, 'consumer stop timed out; disconnecting anyway');
      }
      try {
        await withTimeout(consumer.disconnect(), Math.max(1000, bound / 2), 'consumer disconnect');
      } catch (err) {
        logger.warn({ err }, 'consumer disconnect timed out');
      }
    },
    isReady: () => !gaveUp && joined && !crashed && !stopping && retrying === 0 && undecodable.size === 0 && Object.values(current).some((ps) => ps.length > 0),
    assignment: () => current,
    status: () => ({
      joined,
      crashed,
      retrying,
      assignment: current,
      stopping,
      ...(undecodable.size ? { undecodable: [...undecodable.values()] } : {}),
      ...(gaveUp ? { failed: gaveUp.context } : {}),
    }),
  };
}
