import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import {
  COMPATIBILITY,
  customerLabelsSchema,
  customerLabelsType,
  labelDecisionType,
  labelEventSchema,
  labelEventType,
  subjectFor,
  type CustomerLabels,
  type LabelDecision,
  type LabelEvent,
} from '@labelstream/contracts';
import {
  chunkBySize,
  ensureTopics,
  isRetriable,
  readTailRecords,
  sendAll,
  toDeadLetter,
  type Batch,
  type BatchContext,
  type ProducerOptions,
  type Registry,
  type RetryBounds,
  createResilientRunner,
  type ResilientRunner,
} from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { causeTime, classifySeq, readPublishedPosition, toPublicRecords } from '@labelstream/publishing';
import { CoPartitioningError, PartitionInactiveError, UnreadableTailError } from './errors';
import { PartitionProducers } from './partition-producers';
import { SeqStore, type PartitionSeq } from './seq-store';

/** Topics the publisher reads and writes; tests pass their own. */
export interface PublisherTopics {
  decisions: string;
  labelEvents: string;
  customerLabels: string;
  dlq: string;
  /** Checked for co-partitioning when it exists (the evaluator's input). */
  customerEvents?: string;
}

export interface PublisherOptions {
  kafka: Kafka;
  registry: Registry;
  logger: Logger;
  metrics: Metrics;
  topics: PublisherTopics;
  groupId: string;
  /** Used for topics the publisher has to create. */
  topicDefaults: { partitions: number; replicationFactor: number };
  /** Partitions processed in parallel (default 6). */
  concurrency?: number;
  /**
   * Upper bound on the label events (encoded bytes) of one produce to one partition
   * (default 512 KiB, half the broker's default `max.message.bytes`): a batch is split
   * into runs of whole decisions under it.
   */
  maxSendBytes?: number;
  /**
   * Upper bound on the label events of one produce (default 500). The tail read after a
   * rebalance covers twice this many records.
   */
  maxSendRecords?: number;
  shutdownTimeoutMs?: number;
  sessionTimeoutMs?: number;
  /** Codec of everything this publisher produces (none when unset; the service passes `KAFKA_COMPRESSION`, lz4 by default). */
  compression?: ProducerOptions['compression'];
  /** Bounds on retrying a batch through outages (the runner's defaults when unset). */
  retry?: RetryBounds;
  /** Fetch size per partition (default 4 MiB; must exceed the broker's max message size). */
  maxBytesPerPartition?: number;
  /** Bound on reading the output tails after a rebalance (default 15 s). */
  tailReadTimeoutMs?: number;
  /** Clock for `publishedAt` and latency (default Date.now). */
  now?: () => number;
  /** Called once if consuming stopped for good (a bug or a corrupt output tail); the service lifecycle drains and exits 1 so the process is restarted. */
  onFatal?: (err: Error) => void;
}

export interface Publisher {
  /** Creates/checks topics, registers the public schemas, joins the group. Throws on a fatal set-up problem. */
  start(): Promise<void>;
  /** Stops consuming (bounded), then disconnects the producers. Uncommitted work is redone by the next owner. */
  stop(): Promise<void>;
  isReady(): boolean;
  /** False once the consumer stopped for good (a non-retriable error): restart the process. */
  isLive(): boolean;
  status(): Record<string, unknown>;
}

interface Prepared {
  decision: LabelDecision;
  events: LabelEvent[];
  customerLabels: Message;
  labelEvents: Message[];
  bytes: number;
}

/**
 * The publisher: consumes decisions and publishes, per decision, the customer's current
 * label set (compacted topic) and then its label events, both to the partition number the
 * decision came from. Duplicated decisions (seq at or below the last published one) are
 * dropped; the last published seq is read back from the tail of the label-events
 * partition whenever a partition is (re)assigned, so it survives crashes and rebalances.
 * See services/publisher/README.md for the failure analysis.
 */
export function createPublisher(opts: PublisherOptions): Publisher {
  const { kafka, registry, metrics, topics } = opts;
  const logger = opts.logger.child({ component: 'publisher' });
  const now = opts.now ?? Date.now;
  const maxSendBytes = opts.maxSendBytes ?? 512 * 1024;
  const maxSendRecords = opts.maxSendRecords ?? 500;
  // The tail read must reach past one whole stale send to find the true high-water mark.
  const tailWindow = maxSendRecords * 2;
  const producers = new PartitionProducers(kafka, logger, { compression: opts.compression });
  const categories = new Map<string, string>();
  const categoryOf = (label: string): string | undefined => categories.get(label);
  let encodeEvent: ((e: LabelEvent) => Buffer) | undefined;
  let encodeLabels: ((c: CustomerLabels) => Buffer) | undefined;
  let runner: ResilientRunner | undefined;

  const seqs = new SeqStore(async (partitions) => {
    const started = Date.now();
    const tails = await readTailRecords(kafka, topics.labelEvents, partitions, {
      count: tailWindow,
      timeoutMs: opts.tailReadTimeoutMs ?? 15_000,
      groupIdPrefix: `${opts.groupId}-tail`,
    });
    const out = new Map<number, number>();
    for (const [partition, records] of tails) out.set(partition, lastSeqOf(partition, records));
    logger.info({ partitions, lastSeq: Object.fromEntries(out), ms: Date.now() - started }, 'read last published seq from the label-events tail');
    return out;
  });

  /**
   * The highest `ls-seq` among the last records of a partition. Normally that is the last
   * record's; it differs only when a former owner's stale send landed after the new
   * owner's records (see the README, "zombies"), which a one-record read would take for
   * the high-water mark and re-publish everything after it.
   */
  function lastSeqOf(partition: number, records: KafkaMessage[]): number {
    let max = 0;
    for (const record of records) {
      const pos = readPublishedPosition(record.headers);
      if (!pos) throw new UnreadableTailError(topics.labelEvents, partition, record.offset, 'has no ls-seq/ls-source-partition headers');
      if (pos.sourcePartition !== partition) {
        throw new UnreadableTailError(topics.labelEvents, partition, record.offset, `names source partition ${pos.sourcePartition}`);
      }
      max = Math.max(max, pos.seq);
    }
    const last = records[records.length - 1];
    const lastSeq = last ? readPublishedPosition(last.headers)!.seq : 0;
    if (lastSeq < max) {
      metrics.errors.inc({ code: 'STALE_TAIL_WRITE' });
      logger.error({ partition, lastRecordSeq: lastSeq, maxSeq: max, offset: last?.offset }, 'a former owner wrote stale label events after newer ones (duplicates downstream; dedupe on eventId)');
    }
    return max;
  }

  /**
   * Checks, right before a send, that this member still owns the partition. `heartbeat()`
   * only reaches the coordinator when the last heartbeat is older than the heartbeat
   * interval — exactly the case of a member that was paused past its session timeout (a
   * zombie), whose heartbeat then fails (unknown member / rebalancing) before it can write
   * stale records after the new owner's.
   */
  async function fence(ctx: BatchContext, partition: number): Promise<void> {
    await ctx.heartbeat();
    if (!ctx.isActive()) throw new PartitionInactiveError(topics.decisions, partition);
  }

  function prepare(decision: LabelDecision, partition: number, publishedAt: number): Prepared {
    const r = toPublicRecords(decision, { publishedAt, categoryOf });
    const { key, headers } = r;
    const customerLabels: Message = { key, value: encodeLabels!(r.customerLabels), headers, partition };
    // Rough wire size (value + key + headers) of what this decision adds to the two sends.
    const perRecord = key.length + 120;
    let bytes = (customerLabels.value as Buffer).length + perRecord;
    const labelEvents: Message[] = new Array<Message>(r.labelEvents.length);
    for (let i = 0; i < r.labelEvents.length; i++) {
      const value = encodeEvent!(r.labelEvents[i]!);
      bytes += value.length + perRecord;
      labelEvents[i] = { key, value, headers, partition };
    }
    return { decision, events: r.labelEvents, customerLabels, labelEvents, bytes };
  }

  /**
   * prom-client children, looked up once per label value rather than per record (a
   * labelled `inc()` hashes its label set on every call).
   */
  const labelEventsProduced = {
    LABEL_ASSIGNED: metrics.eventsProduced.labels({ topic: topics.labelEvents, type: 'LABEL_ASSIGNED' }),
    LABEL_REMOVED: metrics.eventsProduced.labels({ topic: topics.labelEvents, type: 'LABEL_REMOVED' }),
  };
  const customerLabelsProduced = metrics.eventsProduced.labels({ topic: topics.customerLabels, type: 'CustomerLabels' });
  const latencyByCause = new Map<string, ReturnType<Metrics['endToEndLatency']['labels']>>();
  const perLabel = new Map<string, { assigned: { inc(): void }; removed: { inc(): void } }>();
  function labelMetrics(label: string) {
    let m = perLabel.get(label);
    if (!m) {
      m = {
        assigned: metrics.labelChanges.labels({ label, change: 'ASSIGNED' }),
        removed: metrics.labelChanges.labels({ label, change: 'REMOVED' }),
      };
      perLabel.set(label, m);
    }
    return m;
  }

  function observe(run: Prepared[]): void {
    const t = now();
    let assigned = 0;
    let removed = 0;
    for (const p of run) {
      for (const e of p.events) {
        const m = labelMetrics(e.label);
        if (e.type === 'LABEL_ASSIGNED') {
          assigned++;
          m.assigned.inc();
        } else {
          removed++;
          m.removed.inc();
        }
      }
      const kind = p.decision.cause.kind;
      let latency = latencyByCause.get(kind);
      if (!latency) latencyByCause.set(kind, (latency = metrics.endToEndLatency.labels({ cause: kind })));
      latency.observe(Math.max(0, t - causeTime(p.decision)) / 1000);
    }
    if (assigned) labelEventsProduced.LABEL_ASSIGNED.inc(assigned);
    if (removed) labelEventsProduced.LABEL_REMOVED.inc(removed);
    customerLabelsProduced.inc(run.length);
  }

  async function handle(batch: Batch, ctx: BatchContext): Promise<void> {
    const partition = batch.partition;
    const state: PartitionSeq = await seqs.get(partition);
    const source = { topic: batch.topic, partition };
    const dead: Message[] = [];
    const prepared: Prepared[] = [];
    const publishedAt = now();
    let last = state.lastSeq;
    let drops = 0;
    for (const m of batch.messages) {
      let d: LabelDecision;
      try {
        // Synchronous once the writer schema is known: no promise per decision.
        d = registry.decodeIfLoaded<LabelDecision>(m.value, labelDecisionType) ?? (await registry.decode<LabelDecision>(m.value, labelDecisionType));
      } catch (err) {
        if (isRetriable(err)) throw err;
        logger.warn({ err, partition, offset: m.offset }, 'undecodable decision: dead-lettered');
        dead.push(toDeadLetter(m, source, { reason: 'UNDECODABLE_DECISION', message: (err as Error).message }));
        continue;
      }
      if (d.sourcePartition !== partition) {
        // Its outputs would land where another sequence's marker lives: never publish it.
        logger.error({ partition, offset: m.offset, decisionId: d.decisionId, sourcePartition: d.sourcePartition }, 'decision on the wrong partition: dead-lettered');
        dead.push(toDeadLetter(m, source, { reason: 'PARTITION_MISMATCH', message: `sourcePartition ${d.sourcePartition} consumed from partition ${partition}` }));
        continue;
      }
      // Learnt from duplicates too: after a restart, the re-read decisions are what tells
      // this publisher the categories of labels that older evaluators do not list.
      for (const c of d.changes) categories.set(c.label, c.category);
      const verdict = classifySeq(last, d.seq);
      if (verdict === 'duplicate') {
        drops++;
        continue;
      }
      if (verdict === 'gap') {
        metrics.errors.inc({ code: 'SEQ_GAP' });
        logger.error({ partition, lastSeq: last, seq: d.seq, decisionId: d.decisionId }, 'gap in decision sequence: publishing anyway');
      }
      last = d.seq;
      prepared.push(prepare(d, partition, publishedAt));
    }
    metrics.eventsConsumed.inc({ topic: batch.topic, type: 'LabelDecision' }, batch.messages.length);
    if (drops) {
      metrics.dedupeDrops.inc(drops);
      logger.info({ partition, drops, lastSeq: state.lastSeq }, 'dropped already-published decisions');
    }

    try {
      const producer = await producers.get(partition);
      if (dead.length) {
        await fence(ctx, partition);
        await sendAll(producer, new Map([[topics.dlq, dead]]));
        for (const msg of dead) metrics.deadLettered.inc({ topic: topics.dlq, reason: String(msg.headers?.['ls-dlq-reason'] ?? 'UNKNOWN') });
      }
      for (const run of chunkBySize(prepared, (p) => p.bytes, maxSendBytes, (p) => p.labelEvents.length, maxSendRecords)) {
        // Current labels first, then the label events in one record batch: the label
        // events' tail is the marker that the decisions up to its ls-seq are done.
        await fence(ctx, partition);
        await sendAll(producer, new Map([[topics.customerLabels, run.map((p) => p.customerLabels)]]));
        await fence(ctx, partition);
        await sendAll(producer, new Map([[topics.labelEvents, run.flatMap((p) => p.labelEvents)]]));
        state.lastSeq = run[run.length - 1]!.decision.seq;
        observe(run);
      }
    } catch (err) {
      // After a failed or abandoned send, only the topic knows what landed: re-read it.
      await seqs.invalidate(state);
      throw err;
    }
  }

  async function prepareTopics(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { partitions: numPartitions, replicationFactor } = opts.topicDefaults;
      const counts = await ensureTopics(admin, [
        { topic: topics.decisions, numPartitions, replicationFactor },
        { topic: topics.labelEvents, numPartitions, replicationFactor },
        { topic: topics.customerLabels, numPartitions, replicationFactor, config: { 'cleanup.policy': 'compact' } },
        { topic: topics.dlq, numPartitions, replicationFactor },
      ]);
      const copartitioned: Record<string, number> = {
        [topics.decisions]: counts[topics.decisions] ?? 0,
        [topics.labelEvents]: counts[topics.labelEvents] ?? 0,
        [topics.customerLabels]: counts[topics.customerLabels] ?? 0,
      };
      if (topics.customerEvents && (await admin.listTopics()).includes(topics.customerEvents)) {
        const meta = await admin.fetchTopicMetadata({ topics: [topics.customerEvents] });
        copartitioned[topics.customerEvents] = meta.topics[0]?.partitions.length ?? 0;
      }
      if (new Set(Object.values(copartitioned)).size !== 1) throw new CoPartitioningError(copartitioned);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.customerLabels, configNames: ['cleanup.policy'] }],
      });
      const policy = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      if (!policy?.includes('compact')) {
        logger.warn({ topic: topics.customerLabels, policy }, 'current-labels topic is not compacted: bootstrapping readers will replay every change');
      }
      logger.info({ partitions: copartitioned }, 'topics ready and co-partitioned');
    } finally {
      await admin.disconnect();
    }
  }

  return {
    async start() {
      await prepareTopics();
      const [eventId, labelsId] = await Promise.all([
        registry.register(subjectFor(topics.labelEvents), labelEventSchema, COMPATIBILITY),
        registry.register(subjectFor(topics.customerLabels), customerLabelsSchema, COMPATIBILITY),
      ]);
      encodeEvent = registry.encoder<LabelEvent>(eventId, labelEventType);
      encodeLabels = registry.encoder<CustomerLabels>(labelsId, customerLabelsType);
      runner = createResilientRunner({
        kafka,
        groupId: opts.groupId,
        topics: [topics.decisions],
        handler: handle,
        logger,
        metrics,
        fromBeginning: true,
        concurrency: opts.concurrency ?? 6,
        ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
        ...(opts.shutdownTimeoutMs ? { shutdownTimeoutMs: opts.shutdownTimeoutMs } : {}),
        ...(opts.retry ? { retry: opts.retry } : {}),
        ...(opts.maxBytesPerPartition ? { maxBytesPerPartition: opts.maxBytesPerPartition } : {}),
        // Runs synchronously inside kafkajs' GROUP_JOIN, before the new generation's first
        // fetch: forget what we knew and read every assigned partition's tail in one go.
        onAssignment: (assignment) => {
          const owned = assignment[topics.decisions] ?? [];
          seqs.reset(owned);
          producers.retain(owned);
        },
        // The service's lifecycle logs it (fatal) and drains; without one, say it here.
        onFatal: (err) => (opts.onFatal ? opts.onFatal(err) : logger.fatal({ err }, 'publisher stopped consuming for good')),
      });
      await runner.start();
      logger.info({ groupId: opts.groupId, topics }, 'publisher started');
    },
    async stop() {
      await runner?.stop();
      await producers.closeAll();
    },
    isReady: () => runner?.isReady() ?? false,
    isLive: () => runner?.fatal() === undefined,
    status: () => ({ ...(runner?.status() ?? { started: false }), knownPartitions: seqs.known() }),
  };
}
