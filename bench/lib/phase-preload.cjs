'use strict';
/**
 * Preload and baseline: the generator writes N storefront events to the run's raw topics
 * as fast as the broker takes them; then a do-nothing kafkajs consumer (batch mode, the
 * same fetch settings as the services) reads them all back. That read rate is the ceiling
 * the pipeline is held against: every stage is at least one such consumer.
 */
const { Kafka, logLevel } = require('kafkajs');
const pkgs = require('./pkgs.cjs');
const { cpuSeconds, round } = require('./system.cjs');

async function preload({ env, names, opts, log }) {
  const started = Date.now();
  const summary = await pkgs.cli.runGenerator(
    {
      brokers: env.kafkaBrokers.split(','),
      rate: 0,
      customers: opts.customers,
      durationMs: 0,
      count: opts.events,
      seed: opts.seed,
      malformedRatio: 0.005,
      topicPrefix: `${names.prefix}.`,
      createTopics: false,
      reportEveryMs: 10_000,
      clientId: `${names.prefix}-preload`,
      ...(opts.activitySkew !== undefined ? { storefront: { activitySkew: opts.activitySkew } } : {}),
    },
    { print: (line) => log(`  ${line}`) },
  );
  if (summary.sent !== opts.events) throw new Error(`preload sent ${summary.sent} of ${opts.events} events (failed ${summary.failed}): ${summary.lastError ?? ''}`);
  return {
    events: summary.sent,
    customers: opts.customers,
    malformed: summary.malformed,
    by_kind: summary.byKind,
    produce_events_per_s: Math.round(summary.achievedRate),
    seconds: round((Date.now() - started) / 1000, 1),
  };
}

/** Reads all `expected` messages of the raw topics with a consumer that does nothing with them. */
async function baselineConsume({ env, names, expected, log }) {
  const kafka = new Kafka({ clientId: `${names.prefix}-baseline`, brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  // The same fetch settings as the services' consumer runner (packages/kafka/src/consumer.ts).
  const consumer = kafka.consumer({
    groupId: `${names.prefix}-baseline`,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(names.raw), fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let joinedAt = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt = Date.now()));
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const cpu0 = cpuSeconds(process.pid);
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      if (!first) first = Date.now();
      count += batch.messages.length;
      for (const m of batch.messages) bytes += m.value ? m.value.length : 0;
      last = Date.now();
      if (count >= expected) done();
    },
  });
  const timer = setTimeout(() => done(), 300_000);
  await finished;
  clearTimeout(timer);
  const cpu = cpuSeconds(process.pid) - cpu0;
  await consumer.disconnect();
  // From joining the group (when the services' clock starts too) to the last batch.
  const seconds = Math.max(0.001, (last - (joinedAt || first)) / 1000);
  if (count < expected) log(`  baseline consumer read only ${count} of ${expected} messages within 300 s`);
  return {
    events: count,
    seconds: round(seconds, 2),
    consume_events_per_s: Math.round(count / seconds),
    mb_per_s: round(bytes / 1e6 / seconds, 1),
    avg_value_bytes: Math.round(bytes / Math.max(1, count)),
    consumer_cpu_cores: round(cpu / seconds, 2),
  };
}

module.exports = { preload, baselineConsume };
