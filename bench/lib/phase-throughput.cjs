'use strict';
/**
 * Maximum sustained throughput: with N events already waiting in the raw topics, the
 * pipeline starts and runs flat out. Measured: events/s through each stage (from its first
 * to its last activity), end to end (ingest ready → the last label event's publishedAt),
 * and the CPU each process used meanwhile.
 */
const { lastPublishedAt: lastPublishedAt_ } = require('./label-events.cjs');
const { cpuMeter, stackPids, round } = require('./system.cjs');
const { startPipeline, waitDrained } = require('./pipeline.cjs');
const { serviceDiagnostics } = require('./services.cjs');

/** From a counter's samples: when it first moved, when it reached its final value, and the rate between. */
function stageRate(samples, key, t0) {
  const final = samples[samples.length - 1][key];
  const firstMove = samples.find((s) => s[key] > 0);
  const reached = samples.find((s) => s[key] >= final);
  if (!firstMove || !reached || final === 0) return { count: final, events_per_s: 0 };
  // The sample before the first move bounds the start better than the first move itself.
  const before = samples[Math.max(0, samples.indexOf(firstMove) - 1)];
  const start = Math.max(t0, before.at);
  const seconds = Math.max(0.001, (reached.at - start) / 1000);
  return { count: final, seconds: round(seconds, 2), events_per_s: Math.round(final / seconds), done_after_s: round((reached.at - t0) / 1000, 2) };
}

/** Rates per sample interval (for the chart), smoothed over `windowMs`. */
function series(samples, key, t0, windowMs = 2000) {
  const out = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    let j = i;
    while (j > 0 && s.at - samples[j - 1].at <= windowMs) j--;
    const a = samples[j];
    const rate = s.at > a.at ? ((s[key] - a[key]) * 1000) / (s.at - a.at) : 0;
    out.push([round((s.at - t0) / 1000, 2), Math.round(rate)]);
  }
  return out;
}

async function throughput({ env, names, opts, admin, kafka, log, tag, profileDir }) {
  const svcs = await startPipeline({ env, names, partitions: opts.partitions, rulesFile: 'rules/default.yaml', tag, profileDir, nodeOptions: opts.nodeOptions, serviceEnv: opts.serviceEnv, evaluators: opts.evaluators });
  const t0 = svcs.readyAt;
  const stack = stackPids();
  const meter = cpuMeter(() => ({ ingest: svcs.ingest.pid, evaluator: svcs.evaluator.pids, publisher: svcs.publisher.pid, ...stack, bench: process.pid }));
  meter.start();
  const samples = [];
  const last = await waitDrained(svcs, names, {
    admin,
    rawCount: opts.events,
    timeoutMs: Math.max(300_000, opts.events * 2),
    everyMs: 250,
    onSample: (c) => samples.push({ at: c.at, ingestIn: c.ingestIn, ingestOut: c.ingestOut, evaluatorIn: c.evaluatorIn, decisions: c.decisions, publisherIn: c.publisherIn, labelEvents: c.labelEvents }),
    progress: (c) =>
      c.scrapeError
        ? log(`  metrics scrape failed (${c.scrapeError}); retrying`)
        : log(`  t=${((c.at - t0) / 1000).toFixed(0)}s ingest ${c.ingestIn}/${opts.events}  evaluator ${c.evaluatorIn}/${c.ingestOut}  decisions ${c.decisions}  published ${c.publisherIn}  label events ${c.labelEvents}`),
  });
  const cpu = meter.stop();
  const diagnostics = serviceDiagnostics(undefined, last.raw);

  // The exact end: the newest publishedAt among the last label event of every partition.
  const lastPublishedAt = await lastPublishedAt_({ kafka, admin, env, topic: names.topics.TOPIC_LABEL_EVENTS, groupId: `${names.prefix}-tail` });
  const endAt = lastPublishedAt || last.at;
  const seconds = (endAt - t0) / 1000;
  return {
    svcs,
    result: {
      events: opts.events,
      canonical_events: last.ingestOut,
      dead_lettered: last.ingestDlq,
      decisions: last.decisions,
      label_events: last.labelEvents,
      seconds: round(seconds, 2),
      end_to_end_events_per_s: Math.round(opts.events / seconds),
      stages: {
        ingest: stageRate(samples, 'ingestIn', t0),
        evaluator: stageRate(samples, 'evaluatorIn', t0),
        publisher: { ...stageRate(samples, 'publisherIn', t0), unit: 'decisions' },
      },
      cpu,
      // CPU per input event of each process (ingest, evaluator, publisher, kafka, redis, …): what one event costs the machine.
      cpu_us_per_event: Object.fromEntries(Object.entries(cpu.processes).map(([name, p]) => [name, round((p.cpu_s * 1e6) / opts.events, 1)])),
      evaluators: opts.evaluators,
      diagnostics,
      series: {
        ingest: series(samples, 'ingestIn', t0),
        evaluator: series(samples, 'evaluatorIn', t0),
        publisher_decisions: series(samples, 'publisherIn', t0),
      },
    },
  };
}

module.exports = { throughput };
