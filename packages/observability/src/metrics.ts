import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Labelstream metric, in one place: the names and labels the README documents and
 * the Grafana dashboard and alert rules read. Services get one instance from
 * `createMetrics()` and pass it to their components; domain packages never import this.
 */
export function createMetrics(service: string, opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'labelstream_' });
  const r = [registry];
  /** Reads the population counters when the population gauges are scraped (the evaluator sets it). */
  let populationSource: (() => Promise<void>) | undefined;
  let populationRead: Promise<void> | undefined;
  /** Both gauges are collected in the same scrape: one read serves both. */
  const collectPopulation = async (): Promise<void> => {
    if (!populationSource) return;
    populationRead ??= populationSource().finally(() => {
      populationRead = undefined;
    });
    await populationRead;
  };
  const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

  return {
    registry,
    eventsConsumed: new Counter({ name: 'labelstream_events_consumed_total', help: 'Messages consumed, by topic and event type.', labelNames: ['topic', 'type'], registers: r }),
    eventsProduced: new Counter({ name: 'labelstream_events_produced_total', help: 'Messages produced, by topic and event type.', labelNames: ['topic', 'type'], registers: r }),
    deadLettered: new Counter({ name: 'labelstream_dlq_total', help: 'Messages sent to a dead-letter topic, by reason code.', labelNames: ['topic', 'reason'], registers: r }),
    consumerLag: new Gauge({ name: 'labelstream_consumer_lag', help: 'Messages between the last consumed offset and the high watermark.', labelNames: ['topic', 'partition'], registers: r }),
    batchDuration: new Histogram({ name: 'labelstream_batch_duration_seconds', help: 'Time to process one fetched batch, commit included.', labelNames: ['topic'], buckets: latencyBuckets, registers: r }),
    batchSize: new Histogram({ name: 'labelstream_batch_size', help: 'Messages per processed batch.', labelNames: ['topic'], buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: r }),
    rebalances: new Counter({ name: 'labelstream_rebalances_total', help: 'Consumer group joins (each one follows a rebalance).', registers: r }),
    assignedPartitions: new Gauge({ name: 'labelstream_assigned_partitions', help: 'Partitions currently assigned to this member.', labelNames: ['topic'], registers: r }),
    retries: new Counter({ name: 'labelstream_retries_total', help: 'Retries of a batch after a retriable error (broker, registry or Redis outage), by error code.', labelNames: ['code'], registers: r }),
    errors: new Counter({ name: 'labelstream_errors_total', help: 'Errors by code.', labelNames: ['code'], registers: r }),
    undecodableBatches: new Counter({
      name: 'labelstream_undecodable_batches_total',
      help: 'Fetches that failed on a record batch that could not be decompressed (corrupt, or an unknown codec), by where it is; the partition is stuck until the batch is skipped (RUNBOOK).',
      labelNames: ['topic', 'partition'],
      registers: r,
    }),
    ready: new Gauge({ name: 'labelstream_ready', help: '1 when the service reports ready.', registers: r }),
    // evaluator
    lateEvents: new Counter({ name: 'labelstream_late_events_total', help: 'Events older than the allowed lateness, skipped.', registers: r }),
    duplicateEvents: new Counter({ name: 'labelstream_duplicate_events_total', help: 'Events whose eventId was already applied, skipped.', registers: r }),
    redisScriptDuration: new Histogram({ name: 'labelstream_redis_script_duration_seconds', help: 'Round-trip time of Redis calls, by operation.', labelNames: ['op'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r }),
    outboxBacklog: new Gauge({ name: 'labelstream_outbox_backlog', help: 'Decisions committed in Redis but not yet acknowledged by Kafka.', labelNames: ['partition'], registers: r }),
    decisions: new Counter({ name: 'labelstream_decisions_total', help: 'Decisions committed, by cause (EVENT or TIMER).', labelNames: ['cause'], registers: r }),
    timerLateness: new Histogram({ name: 'labelstream_timer_lateness_seconds', help: 'How long after its due time a time-based re-evaluation ran.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: r }),
    stateCache: new Counter({ name: 'labelstream_state_cache_lookups_total', help: 'Customer states looked up in the evaluator\'s in-memory cache, by result (hit, or miss: read from Redis).', labelNames: ['result'], registers: r }),
    rulesPublishedSeq: new Gauge({ name: 'labelstream_rules_published_seq', help: 'Newest rules sequence published by `labelstream rules deploy` as this instance last read it (0 = none: the rules file).', registers: r }),
    rulesPartitionSeq: new Gauge({ name: 'labelstream_rules_partition_seq', help: 'Rules sequence in force for each partition this instance owns (0 = the rules file).', labelNames: ['partition'], registers: r }),
    rulesSweepActive: new Gauge({ name: 'labelstream_rules_sweep_active', help: '1 while a partition re-evaluates its customers after a rules switch.', labelNames: ['partition'], registers: r }),
    rulesFeatureWarmUntil: new Gauge({ name: 'labelstream_rules_feature_warm_until_seconds', help: 'For a feature a rules switch started empty (added or redefined) whose window the retained history did not cover: when its window is covered, epoch seconds (+Inf for lifetime). Labels reading it decide on partial history until then.', labelNames: ['partition', 'feature'], registers: r }),
    rulesBackfillActive: new Gauge({ name: 'labelstream_rules_backfill_active', help: '1 while a partition fills the features a rules switch adds from the retained history of its input (its live events wait).', labelNames: ['partition'], registers: r }),
    rulesBackfillEvents: new Counter({ name: 'labelstream_rules_backfill_events_total', help: 'Input events read from history by rules-switch backfills.', registers: r }),
    rulesSweptCustomers: new Counter({ name: 'labelstream_rules_swept_customers_total', help: 'Customers re-evaluated by rules sweeps.', registers: r }),
    fencedWrites: new Counter({ name: 'labelstream_fenced_writes_total', help: 'Commits refused because another owner took the partition over.', registers: r }),
    labelPopulation: new Gauge({
      name: 'labelstream_label_population',
      help: 'Customers holding each label: the census kept in Redis with the committed states, exported per partition by the evaluator that owns it (sum by label).',
      labelNames: ['label', 'partition'],
      registers: r,
      collect: collectPopulation,
    }),
    unlabelledCustomers: new Gauge({
      name: 'labelstream_unlabelled_customers',
      help: 'Customers with a stored state and no label, per partition, exported by the evaluator that owns it.',
      labelNames: ['partition'],
      registers: r,
      collect: collectPopulation,
    }),
    /** Sets what refreshes the population gauges at each scrape (it must not throw). */
    onCollectPopulation(source: () => Promise<void>): void {
      populationSource = source;
    },
    labelFlaps: new Counter({ name: 'labelstream_label_flaps_total', help: 'Customers leaving a label within the flap window (LABEL_FLAP_WINDOW) of entering it, by label.', labelNames: ['label'], registers: r }),
    // publisher
    labelChanges: new Counter({ name: 'labelstream_label_changes_total', help: 'Public label events published, by label and change.', labelNames: ['label', 'change'], registers: r }),
    endToEndLatency: new Histogram({ name: 'labelstream_end_to_end_latency_seconds', help: 'From the cause (event time, or a timer due time) to the public label event being acknowledged.', labelNames: ['cause'], buckets: latencyBuckets, registers: r }),
    dedupeDrops: new Counter({ name: 'labelstream_dedupe_drops_total', help: 'Decisions dropped as duplicates (already published).', registers: r }),
    webhookAttempts: new Counter({ name: 'labelstream_webhook_attempts_total', help: 'Webhook deliveries attempted, by destination and outcome.', labelNames: ['destination', 'outcome'], registers: r }),
    webhookLatency: new Histogram({ name: 'labelstream_webhook_latency_seconds', help: 'Webhook request latency, by destination.', labelNames: ['destination'], buckets: latencyBuckets, registers: r }),
    webhookDeadLetters: new Counter({ name: 'labelstream_webhook_dead_letters_total', help: 'Webhook payloads dead-lettered after the last attempt.', labelNames: ['destination'], registers: r }),
    webhookQueue: new Gauge({ name: 'labelstream_webhook_queue', help: 'Payloads waiting for delivery, by destination.', labelNames: ['destination'], registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
