#!/usr/bin/env node
'use strict';
/**
 * `pnpm bench`: throughput, latency, memory and timer figures of the whole pipeline on the
 * real native stack (bench/run.sh starts it and builds first). Every run uses topics,
 * consumer groups, Redis keys and schema subjects of its own (prefix bench-<id>) and
 * removes them afterwards. See BENCHMARKS.md for the method and the current figures.
 *
 * Phases, in order (each optional, see --phases):
 *   redis       redis-benchmark and the evaluator's COMMIT script alone (ceilings)
 *   preload     N storefront events into the run's raw topics, as fast as possible
 *   baseline    a do-nothing kafkajs consumer reads them back (the Kafka ceiling)
 *   throughput  the three services start on the preloaded topics and run flat out
 *   latency     open-loop load at a fixed rate; produce → publishedAt per decision
 *   curve       the same at rising rates (1k, 2k, 5k, 10k events/s) up to saturation
 *   scaling     the throughput phase again with 1, 2 and 3 evaluator processes (fresh topics each)
 *   compression the throughput phase once per codec of our producers (none, lz4, zstd): CPU and broker bytes per event
 *   timers      a second pipeline with short-window rules; lateness of time-based changes
 *   memory      Redis bytes per customer at growing customer counts
 *   backfill    a rules deploy that redefines a feature, on the throughput phase's states and
 *               history: backfill time and memory, one pass against passes of bounded memory
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const Redis = require('ioredis');
const { parseOptions } = require('./lib/options.cjs');
const { machineInfo, versions, stackPids, loadAverage, round, ROOT } = require('./lib/system.cjs');
const { pipelineNames, createPipelineTopics, stopPipeline, cleanupPipeline } = require('./lib/pipeline.cjs');
const { preload, baselineConsume } = require('./lib/phase-preload.cjs');
const { throughput } = require('./lib/phase-throughput.cjs');
const { latency, curve } = require('./lib/phase-latency.cjs');
const { compression } = require('./lib/phase-compression.cjs');
const { timers } = require('./lib/phase-timers.cjs');
const { memory } = require('./lib/phase-memory.cjs');
const { backfill } = require('./lib/phase-backfill.cjs');
const { redisCeiling } = require('./lib/phase-redis.cjs');
const { targets, table, writeResults } = require('./lib/report.cjs');
const { TMP, stopAll } = require('./lib/services.cjs');

function stackEnv() {
  const vars = { ...process.env };
  const file = path.join(process.env.LABELSTREAM_STACK_DIR || path.join(ROOT, '.stack'), 'env');
  if ((!vars.KAFKA_BROKERS || !vars.SCHEMA_REGISTRY_URL || !vars.REDIS_URL) && fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^(?:export\s+)?([A-Z_]+)=["']?([^"']*)["']?$/.exec(line.trim());
      if (m && !vars[m[1]]) vars[m[1]] = m[2];
    }
  }
  for (const k of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL']) {
    if (!vars[k]) throw new Error(`${k} is not set and .stack/env has none: start the stack with \`pnpm stack up\` (bench/run.sh does)`);
  }
  return { kafkaBrokers: vars.KAFKA_BROKERS, schemaRegistryUrl: vars.SCHEMA_REGISTRY_URL, redisUrl: vars.REDIS_URL };
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(opts.help);
    return;
  }
  const env = stackEnv();
  // The services write lz4 (KAFKA_COMPRESSION) and kafkajs decodes only gzip by itself: the
  // harness's own consumers (followers, baseline) need the codecs the services register.
  require('./lib/pkgs.cjs').kafka.registerCodecs();
  const runId = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const mainNames = pipelineNames(`bench-${runId}`);
  const timerNames = pipelineNames(`bench-${runId}-t`);
  const memNames = pipelineNames(`bench-${runId}-m`);
  const t0 = Date.now();
  const log = (line) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  const kafka = new Kafka({ clientId: `bench-${runId}`, brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 3 });
  const stack = stackPids();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
  const profileDir = opts.profile ? path.join(TMP, `profile-${runId}`) : undefined;
  const result = {
    schema: 1,
    run_id: runId,
    started_at: new Date(t0).toISOString(),
    note: opts.note || undefined,
    options: { ...opts, help: undefined },
    machine: machineInfo(),
    versions: versions(stack, redisVersion),
    phases: {},
  };
  log(`run ${runId}: phases ${opts.phases.join(', ')}; ${result.machine.cores} cores, load ${result.machine.load_average.join(' ')}`);
  const others = (await admin.listTopics()).filter((t) => t.startsWith('bench-') && !t.startsWith(mainNames.prefix));
  if (others.length) log(`note: ${others.length} topics of other benchmark runs exist (another run in progress, or one that was killed)`);

  const has = (p) => opts.phases.includes(p);
  let svcs;
  const cleanups = [];
  let failed;
  try {
    if (has('redis')) {
      log('redis: ceilings (redis-benchmark, COMMIT script alone)');
      result.phases.redis = await redisCeiling({ env, redis, names: mainNames, opts, log });
    }
    if (has('preload') || has('latency') || has('curve')) {
      await createPipelineTopics(admin, mainNames, opts.partitions, opts.rawPartitions);
      cleanups.push(mainNames);
    }
    if (has('preload')) {
      log(`preload: ${opts.events.toLocaleString('en')} events over ${opts.customers.toLocaleString('en')} customers`);
      result.phases.preload = await preload({ env, names: mainNames, opts, log });
      log(`  ${result.phases.preload.produce_events_per_s.toLocaleString('en')} events/s produced`);
    }
    if (has('baseline')) {
      log('baseline: a do-nothing kafkajs consumer reads the raw topics');
      result.phases.baseline = await baselineConsume({ env, names: mainNames, expected: opts.events, log });
      log(`  ${result.phases.baseline.consume_events_per_s.toLocaleString('en')} events/s`);
    }
    if (has('throughput')) {
      log('throughput: the pipeline starts on the preloaded topics');
      const tp = await throughput({ env, names: mainNames, opts, admin, kafka, log, tag: `${runId}-main`, profileDir });
      svcs = tp.svcs;
      result.phases.throughput = tp.result;
      log(`  end to end ${tp.result.end_to_end_events_per_s.toLocaleString('en')} events/s in ${tp.result.seconds} s`);
    }
    if ((has('latency') || has('curve')) && !svcs) {
      const { startPipeline } = require('./lib/pipeline.cjs');
      svcs = await startPipeline({ env, names: mainNames, partitions: opts.partitions, rulesFile: 'rules/default.yaml', tag: `${runId}-main`, profileDir, nodeOptions: opts.nodeOptions, serviceEnv: opts.serviceEnv, evaluators: opts.evaluators });
    }
    if (has('latency')) {
      log(`latency: ${opts.rate.toLocaleString('en')} events/s open loop for ${(opts.warmupMs + opts.latencyMs) / 1000} s (first ${opts.warmupMs / 1000} s excluded)`);
      result.phases.latency = await latency({ env, names: mainNames, svcs, opts, log });
      const l = result.phases.latency.latency_ms;
      log(`  p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms over ${l.count} decisions`);
    }
    if (has('curve')) {
      log(`curve: latency at ${opts.curveRates.map((r) => r.toLocaleString('en')).join(', ')} events/s offered`);
      result.phases.curve = await curve({ env, names: mainNames, svcs, opts, log });
    }
    if (svcs) {
      await stopPipeline(svcs);
      svcs = undefined;
    }
    if (has('scaling')) {
      log(`scaling: ${opts.scalingEvents.toLocaleString('en')} events with ${opts.scalingEvaluators.join(', ')} evaluator processes`);
      result.phases.scaling = { events: opts.scalingEvents, runs: [] };
      for (const n of opts.scalingEvaluators) {
        const names = pipelineNames(`bench-${runId}-s${n}`);
        await createPipelineTopics(admin, names, opts.partitions, opts.rawPartitions);
        cleanups.push(names);
        const o = { ...opts, events: opts.scalingEvents, evaluators: n };
        await preload({ env, names, opts: o, log: () => undefined });
        const tp = await throughput({ env, names, opts: o, admin, kafka, log: () => undefined, tag: `${runId}-s${n}` });
        await stopPipeline(tp.svcs);
        const r = tp.result;
        result.phases.scaling.runs.push({
          evaluators: n,
          end_to_end_events_per_s: r.end_to_end_events_per_s,
          evaluator_events_per_s: r.stages.evaluator.events_per_s,
          cpu_cores: Object.fromEntries(Object.entries(r.cpu.processes).map(([k, v]) => [k, v.cores])),
          cpu_us_per_event: r.cpu_us_per_event,
          other_cores: r.cpu.other_cores,
          machine_busy_cores: r.cpu.machine_busy_cores,
        });
        log(`  ${n} evaluator${n > 1 ? 's' : ''}: end to end ${r.end_to_end_events_per_s.toLocaleString('en')} events/s, evaluator stage ${r.stages.evaluator.events_per_s.toLocaleString('en')}/s, machine busy ${r.cpu.machine_busy_cores} cores`);
      }
    }
    if (has('compression')) {
      log(`compression: ${opts.compressionEvents.toLocaleString('en')} events with KAFKA_COMPRESSION ${opts.compressionCodecs.join(', ')}`);
      result.phases.compression = await compression({ env, opts, admin, kafka, log, runId, cleanups });
    }
    if (has('timers')) {
      log(`timers: short-window rules under ${opts.timerRate.toLocaleString('en')} events/s for ${opts.timerMs / 1000} s`);
      await createPipelineTopics(admin, timerNames, opts.partitions, opts.rawPartitions);
      cleanups.push(timerNames);
      result.phases.timers = await timers({ env, names: timerNames, opts, log, tag: `${runId}-timers` });
      const tl = result.phases.timers.timer_lateness_ms;
      log(`  lateness p50 ${tl.p50} ms, p99 ${tl.p99} ms over ${result.phases.timers.timer_label_decisions} time-based decisions`);
    }
    if (has('memory')) {
      log(`memory: Redis bytes per customer at ${opts.memorySizes.map((n) => n.toLocaleString('en')).join(', ')} customers`);
      result.phases.memory = await memory({ redis, redisUrl: env.redisUrl, opts, names: memNames, templatesFrom: mainNames, log });
    }
    if (has('backfill')) {
      log('backfill: a rules deploy redefines spend_90d on the throughput phase\'s states; one pass, then passes of bounded memory');
      // One evaluator takes every partition: the main pipeline leaves first.
      if (svcs) await stopPipeline(svcs);
      svcs = undefined;
      result.phases.backfill = await backfill({ env, names: mainNames, opts, redis, log, tag: `${runId}-main` });
    }
  } catch (err) {
    failed = err;
    log(`FAILED: ${err.stack ?? err.message}`);
  } finally {
    if (svcs) await stopPipeline(svcs);
    await stopAll();
    if (!opts.keep) {
      for (const names of cleanups) {
        const c = await cleanupPipeline({ admin, redis, registryUrl: env.schemaRegistryUrl, names }).catch((e) => ({ problems: [e.message] }));
        log(`cleanup ${names.prefix}: ${c.topics ?? 0} topics, ${c.groups ?? 0} groups, ${c.redisKeys ?? 0} Redis keys removed${c.problems?.length ? `; problems: ${c.problems.join('; ')}` : ''}`);
      }
    }
    await admin.disconnect().catch(() => undefined);
    redis.disconnect();
  }

  const p = result.phases;
  result.finished_at = new Date().toISOString();
  result.duration_s = round((Date.now() - t0) / 1000, 1);
  result.load_average_end = loadAverage();
  result.throughput_events_per_s = p.throughput?.end_to_end_events_per_s;
  result.baseline_consume_events_per_s = p.baseline?.consume_events_per_s;
  result.latency_ms = p.latency ? { p50: p.latency.latency_ms.p50, p95: p.latency.latency_ms.p95, p99: p.latency.latency_ms.p99, max: p.latency.latency_ms.max } : undefined;
  result.offered_rate = p.latency?.offered_rate;
  result.latency_curve = p.curve?.points.map(({ offered_rate, p50, p99, saturated }) => ({ offered_rate, p50, p99, saturated }));
  result.cpu_us_per_event = p.throughput?.cpu_us_per_event;
  result.redis_bytes_per_customer = p.memory?.redis_bytes_per_customer;
  result.timer_lateness_ms = p.timers ? { p50: p.timers.timer_lateness_ms.p50, p99: p.timers.timer_lateness_ms.p99 } : undefined;
  result.targets = targets(result);
  if (failed) result.error = failed.message;
  if (profileDir) result.profiles = profileDir;

  const files = writeResults(result);
  console.log('\n' + table(result) + '\n');
  console.log(`results: ${path.relative(ROOT, files.latest)} (history: ${path.relative(ROOT, files.history)}), chart: ${path.relative(ROOT, files.chart)}`);
  // Leave even if a client the harness forgot still holds a socket open.
  process.exit(failed ? 1 : 0);
}

// Ctrl-C: stop the services this run started before leaving (the topics stay; see --keep).
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\nbench: ${sig}, stopping the services it started`);
    void stopAll(5000).finally(() => process.exit(130));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
