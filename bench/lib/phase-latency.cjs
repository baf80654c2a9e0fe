'use strict';
/**
 * Latency at a fixed offered rate: the generator produces open loop at `rate` events/s
 * while a follower reads the public label events. Each raw event's produce time (when its
 * batch was handed to the producer) is recorded by eventId; a label event names its cause
 * (`causeEventId`) and carries `publishedAt`, so latency = publishedAt − produce time, per
 * decision. The first `warmupMs` are excluded from the figures (but charted).
 */
const { Kafka, logLevel } = require('kafkajs');
const pkgs = require('./pkgs.cjs');
const { summary, windows } = require('./stats.cjs');
const { cpuMeter, stackPids } = require('./system.cjs');
const { pipelineCounters, waitDrained } = require('./pipeline.cjs');
const { followLabelEvents } = require('./label-events.cjs');
const { sleep, serviceDiagnostics } = require('./services.cjs');

/**
 * A kafkajs client for the generator whose producer notes, per message value, when its
 * batch was handed to Kafka (the produce time; the ack comes later).
 */
function timedKafka(brokers, clientId, sentAt) {
  const real = new Kafka({ clientId, brokers, connectionTimeout: 3000, retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 }, logLevel: logLevel.ERROR });
  return {
    admin: () => real.admin(),
    producer(config) {
      const p = real.producer(config);
      return {
        connect: () => p.connect(),
        disconnect: () => p.disconnect(),
        sendBatch(req) {
          const t = Date.now();
          for (const tm of req.topicMessages) for (const m of tm.messages) sentAt.set(m.value, t);
          return p.sendBatch(req);
        },
      };
    },
  };
}

/**
 * Runs the generator at `rate` for `warmupMs + durationMs` against a running pipeline and
 * measures end-to-end latency per decision. Used for the latency phase (event-caused
 * decisions) and, with short-window rules, the timer phase (time-caused ones).
 */
async function offeredLoad({ env, names, svcs, kafka, rate, customers, warmupMs, durationMs, seed, log, onTimer, storefront }) {
  const produced = new Map(); // eventId → produce time, for this phase only
  const sentAt = new WeakMap();
  const samples = []; // [produceTime, latencyMs]
  const unmatched = [];
  let timerDecisions = 0;
  const follower = await followLabelEvents({
    kafka,
    env,
    topic: names.topics.TOPIC_LABEL_EVENTS,
    groupId: `${names.prefix}-follow-${seed}`,
    fromBeginning: false,
    onDecision(e, receivedAt) {
      if (e.causeEventId == null) {
        timerDecisions++;
        onTimer?.(e, receivedAt);
        return;
      }
      const t = produced.get(e.causeEventId);
      if (t === undefined) {
        unmatched.push(e);
        return;
      }
      produced.delete(e.causeEventId);
      samples.push([t, Number(e.publishedAt) - t]);
    },
  });
  let gen;
  let drained;
  let cpu;
  let diagnostics;
  let complete = true;
  let late = 0;
  let genStart = 0;
  try {
    await sleep(1000); // the follower's first fetch has fixed its start offset

    const before = await pipelineCounters(svcs, names);
    const stack = stackPids();
    const meter = cpuMeter(() => ({ ingest: svcs.ingest.pid, evaluator: svcs.evaluator.pids, publisher: svcs.publisher.pid, ...stack, bench: process.pid }));
    let meterStarted = false;
    const warm = setTimeout(() => {
      meter.start();
      meterStarted = true;
    }, warmupMs);
    gen = await pkgs.cli.runGenerator(
      {
        brokers: env.kafkaBrokers.split(','),
        rate,
        customers,
        durationMs: warmupMs + durationMs,
        seed,
        malformedRatio: 0.005,
        topicPrefix: `${names.prefix}.`,
        createTopics: false,
        reportEveryMs: 15_000,
        clientId: `${names.prefix}-load-${seed}`,
        ...(storefront ? { storefront } : {}),
      },
      {
        kafka: timedKafka(env.kafkaBrokers.split(','), `${names.prefix}-load-${seed}`, sentAt),
        print: (line) => log(`  ${line}`),
        now: () => {
          const t = Date.now();
          if (!genStart) genStart = t;
          return t;
        },
        onSent(batch, ackedAt) {
          for (const m of batch) if (m.eventId) produced.set(m.eventId, sentAt.get(m.value) ?? ackedAt);
        },
      },
    );
    clearTimeout(warm);
    cpu = meterStarted ? meter.stop() : undefined;

    // Let the pipeline finish what was offered, then let the follower catch up.
    // A pipeline that fell behind may need long to catch up: give up after a bound and say
    // so (the figures then leave out what was still in flight, so they are a lower bound).
    try {
      const admin = kafka.admin();
      await admin.connect();
      try {
        drained = await waitDrained(svcs, names, { rawCount: before.ingestIn + gen.sent, timeoutMs: 90_000, everyMs: 250, admin });
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    } catch (err) {
      complete = false;
      log(`  ${err.message.split(' (')[0]}: reporting what was published by then`);
      drained = await pipelineCounters(svcs, names).catch(() => undefined);
    }
    diagnostics = drained ? serviceDiagnostics(before.raw, drained.raw) : undefined;
    const expected = drained ? drained.labelEvents - before.labelEvents : 0;
    const deadline = Date.now() + 30_000;
    while (follower.received() < expected && Date.now() < deadline) await sleep(100);
    // A label event may have overtaken its cause's ack: match the stragglers now.
    for (const e of unmatched) {
      const t = produced.get(e.causeEventId);
      if (t !== undefined) samples.push([t, Number(e.publishedAt) - t]);
      else late++;
    }
  } finally {
    await follower.stop().catch(() => undefined);
  }
  const measured = samples.filter(([t]) => t >= genStart + warmupMs).map(([, v]) => v);
  return {
    gen,
    genStart,
    samples,
    cpu,
    result: {
      offered_rate: rate,
      achieved_rate: Math.round(gen.sent / ((warmupMs + durationMs) / 1000)),
      events: gen.sent,
      customers,
      warmup_s: warmupMs / 1000,
      measured_s: durationMs / 1000,
      decisions: follower.decisions(),
      event_decisions_measured: measured.length,
      timer_decisions: timerDecisions,
      unmatched_decisions: late,
      latency_ms: summary(measured),
      complete,
      ...(complete ? {} : { backlog_at_end: drained ? { evaluator: drained.ingestOut - drained.evaluatorIn, publisher: drained.decisions - drained.publisherIn } : null }),
      diagnostics,
    },
  };
}

async function latency({ env, names, svcs, opts, log }) {
  const kafka = new Kafka({ clientId: `${names.prefix}-latency`, brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const run = await offeredLoad({
    env,
    names,
    svcs,
    kafka,
    rate: opts.rate,
    customers: opts.customers,
    warmupMs: opts.warmupMs,
    durationMs: opts.latencyMs,
    seed: opts.seed + 1,
    log,
    ...(opts.activitySkew !== undefined ? { storefront: { activitySkew: opts.activitySkew } } : {}),
  });
  return {
    ...run.result,
    cpu: run.cpu,
    series: windows(run.samples, run.genStart, 1000).map((w) => [w.t_s, w.p50, w.p99, w.max, w.count]),
  };
}

/**
 * The latency curve: the same measurement at rising offered rates on the running
 * pipeline, so a reader sees where it saturates. Stops after the first rate the pipeline
 * could not keep up with (not drained in time, or p99 over 10 s): higher rates would only
 * measure a growing queue.
 */
async function curve({ env, names, svcs, opts, log }) {
  const kafka = new Kafka({ clientId: `${names.prefix}-curve`, brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const points = [];
  for (const [i, rate] of opts.curveRates.entries()) {
    log(`  curve: ${rate.toLocaleString('en')} events/s for ${(opts.curveWarmupMs + opts.curveMs) / 1000} s`);
    const run = await offeredLoad({
      env,
      names,
      svcs,
      kafka,
      rate,
      customers: opts.customers,
      warmupMs: opts.curveWarmupMs,
      durationMs: opts.curveMs,
      seed: opts.seed + 10 + i,
      log: () => undefined,
      ...(opts.activitySkew !== undefined ? { storefront: { activitySkew: opts.activitySkew } } : {}),
    });
    const l = run.result.latency_ms;
    const saturated = !run.result.complete || !(l.p99 <= 10_000);
    points.push({ offered_rate: rate, achieved_rate: run.result.achieved_rate, p50: l.p50, p99: l.p99, max: l.max, count: l.count, complete: run.result.complete, saturated, cpu: run.cpu });
    log(`    p50 ${l.p50} ms, p99 ${l.p99} ms${saturated ? ' — saturated' : ''}`);
    if (saturated) break;
  }
  return { points };
}

module.exports = { latency, curve, offeredLoad, timedKafka };
