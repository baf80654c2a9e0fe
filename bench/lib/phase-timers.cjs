'use strict';
/**
 * Time-based changes under load: a second pipeline runs bench/timer-rules.yaml (windows of
 * seconds, so due times fall inside a short run; the default rules' windows are days)
 * while the generator offers `timerRate` events/s. Every label event with no cause
 * event is a timer's: its lateness is publishedAt − effectiveAt (the due time). The
 * evaluator's own histogram (due time → re-evaluation, every timer, changed or not) is
 * reported beside it.
 */
const { Kafka, logLevel } = require('kafkajs');
const { summary, windows } = require('./stats.cjs');
const { round } = require('./system.cjs');
const { startPipeline, stopPipeline, pipelineCounters } = require('./pipeline.cjs');
const { histogramQuantile, metricSum } = require('./services.cjs');
const { offeredLoad } = require('./phase-latency.cjs');

async function timers({ env, names, opts, log, tag }) {
  const svcs = await startPipeline({ env, names, partitions: opts.partitions, rulesFile: 'bench/timer-rules.yaml', tag, nodeOptions: opts.nodeOptions, serviceEnv: opts.serviceEnv });
  try {
    const kafka = new Kafka({ clientId: `${names.prefix}-timers`, brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
    const lateness = []; // [effectiveAt, ms]
    let loadEnd = Infinity;
    const run = await offeredLoad({
      env,
      names,
      svcs,
      kafka,
      rate: opts.timerRate,
      customers: opts.timerCustomers,
      warmupMs: 0,
      durationMs: opts.timerMs,
      seed: opts.seed + 2,
      log,
      // No deliberately late events here: a late event's due time can already be past when
      // it is scheduled (event-time semantics), which is not timer lateness.
      storefront: { lateRatio: 0, ...(opts.activitySkew !== undefined ? { activitySkew: opts.activitySkew } : {}) },
      onTimer: (e) => lateness.push([Number(e.effectiveAt), Number(e.publishedAt) - Number(e.effectiveAt)]),
    });
    loadEnd = run.genStart + opts.timerMs;
    const under = lateness.filter(([due]) => due <= loadEnd);
    const c = await pipelineCounters(svcs, names);
    const me = c.raw.evaluator;
    const s = summary(under.map(([, v]) => v));
    return {
      rules: 'bench/timer-rules.yaml',
      load_events_per_s: opts.timerRate,
      customers: opts.timerCustomers,
      seconds: opts.timerMs / 1000,
      timer_label_decisions: s.count,
      timer_lateness_ms: { p50: s.p50, p95: s.p95, p99: s.p99, max: s.max },
      evaluator_timer_runs: metricSum(me, 'labelstream_timer_lateness_seconds_count'),
      evaluator_histogram_ms: {
        p50: roundMs(histogramQuantile(me, 'labelstream_timer_lateness_seconds', 0.5)),
        p99: roundMs(histogramQuantile(me, 'labelstream_timer_lateness_seconds', 0.99)),
      },
      event_latency_ms: run.result.latency_ms,
      series: windows(under, run.genStart, 5000).map((w) => [w.t_s, w.p50, w.p99, w.max, w.count]),
    };
  } finally {
    await stopPipeline(svcs);
  }
}

function roundMs(seconds) {
  return seconds == null ? null : round(seconds * 1000, 0);
}

module.exports = { timers };
