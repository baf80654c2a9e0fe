'use strict';
/**
 * Compression of our own output: the throughput phase once per codec that the services'
 * producers use (`KAFKA_COMPRESSION`: none, lz4, zstd; raw input stays as the storefront
 * wrote it, uncompressed), each on fresh topics with the same preloaded events. Per codec:
 * CPU per input event of every process (the services compress, Kafka stores what it gets)
 * and the bytes the broker keeps per input event on each internal and public topic (the
 * sizes of their log segments on disk, read from the local stack's data directory).
 */
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, round } = require('./system.cjs');
const { pipelineNames, createPipelineTopics, stopPipeline } = require('./pipeline.cjs');
const { preload } = require('./phase-preload.cjs');
const { throughput } = require('./phase-throughput.cjs');

/** Bytes of a topic's log segments (all partitions) in the local broker's data directory; null when not local. */
function topicBytes(topic) {
  const dir = path.join(process.env.LABELSTREAM_STACK_DIR || path.join(ROOT, '.stack'), 'data', 'kafka');
  if (!fs.existsSync(dir)) return null;
  let bytes = 0;
  for (const d of fs.readdirSync(dir)) {
    if (!d.startsWith(`${topic}-`) || !/^\d+$/.test(d.slice(topic.length + 1))) continue;
    for (const f of fs.readdirSync(path.join(dir, d))) if (f.endsWith('.log')) bytes += fs.statSync(path.join(dir, d, f)).size;
  }
  return bytes;
}

async function compression({ env, opts, admin, kafka, log, runId, cleanups }) {
  const runs = [];
  for (const codec of opts.compressionCodecs) {
    const names = pipelineNames(`bench-${runId}-z${codec}`);
    await createPipelineTopics(admin, names, opts.partitions, opts.rawPartitions);
    cleanups.push(names);
    const o = { ...opts, events: opts.compressionEvents, evaluators: 1, serviceEnv: { ...(opts.serviceEnv ?? {}), KAFKA_COMPRESSION: codec } };
    await preload({ env, names, opts: o, log: () => undefined });
    const tp = await throughput({ env, names, opts: o, admin, kafka, log: () => undefined, tag: `${runId}-z${codec}` });
    await stopPipeline(tp.svcs);
    const t = names.topics;
    const topics = { customer_events: t.TOPIC_CUSTOMER_EVENTS, decisions: t.TOPIC_DECISIONS, label_events: t.TOPIC_LABEL_EVENTS, customer_labels: t.TOPIC_CUSTOMER_LABELS };
    const bytesPerEvent = {};
    for (const [k, topic] of Object.entries(topics)) {
      const b = topicBytes(topic);
      bytesPerEvent[k] = b === null ? null : round(b / o.events, 1);
    }
    const cpu = tp.result.cpu_us_per_event;
    const run = {
      codec,
      events: o.events,
      end_to_end_events_per_s: tp.result.end_to_end_events_per_s,
      cpu_us_per_event: cpu,
      services_cpu_us_per_event: round((cpu.ingest ?? 0) + (cpu.evaluator ?? 0) + (cpu.publisher ?? 0), 1),
      broker_bytes_per_event: bytesPerEvent,
    };
    runs.push(run);
    const total = Object.values(bytesPerEvent).every((v) => v !== null) ? round(Object.values(bytesPerEvent).reduce((a, b) => a + b, 0), 1) : null;
    run.broker_bytes_per_event_total = total;
    log(`  ${codec}: ${run.end_to_end_events_per_s.toLocaleString('en')} events/s, services ${run.services_cpu_us_per_event} µs CPU/event (kafka ${cpu.kafka ?? '?'}), broker ${total ?? '?'} B/event on our topics`);
  }
  return { events: opts.compressionEvents, runs };
}

module.exports = { compression, topicBytes };
