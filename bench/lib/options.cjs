'use strict';
/**
 * `pnpm bench` options: defaults for the full run (about 10 minutes on a 2-core machine),
 * `--quick` for a CI-sized run (1–2 minutes), and flags for each knob.
 */

const { parseArgs } = require('node:util');
const pkgs = require('./pkgs.cjs');

const PHASES = ['redis', 'preload', 'baseline', 'throughput', 'latency', 'curve', 'scaling', 'compression', 'timers', 'memory', 'backfill'];

const FULL = {
  events: 1_000_000,
  customers: 100_000,
  partitions: 6,
  rawPartitions: 3,
  rate: 5000,
  warmupMs: 30_000,
  latencyMs: 150_000,
  timerRate: 2000,
  timerCustomers: 20_000,
  timerMs: 60_000,
  memorySizes: [10_000, 100_000, 1_000_000],
  redisRequests: 200_000,
  activitySkew: 0.8,
  curveRates: [1000, 2000, 5000, 10_000],
  curveWarmupMs: 10_000,
  curveMs: 30_000,
  evaluators: 1,
  scalingEvents: 300_000,
  scalingEvaluators: [1, 2, 3],
  compressionEvents: 200_000,
  compressionCodecs: ['none', 'lz4', 'zstd'],
};

const QUICK = {
  events: 100_000,
  customers: 10_000,
  partitions: 6,
  rawPartitions: 3,
  rate: 5000,
  warmupMs: 5000,
  latencyMs: 20_000,
  timerRate: 1000,
  timerCustomers: 2000,
  timerMs: 25_000,
  memorySizes: [10_000, 100_000],
  redisRequests: 50_000,
  activitySkew: 0.8,
  curveRates: [1000, 5000],
  curveWarmupMs: 3000,
  curveMs: 10_000,
  evaluators: 1,
  scalingEvents: 50_000,
  scalingEvaluators: [1, 2],
  compressionEvents: 30_000,
  compressionCodecs: ['none', 'lz4', 'zstd'],
};

const HELP = `pnpm bench [options]   throughput, latency, memory and timer figures on the native stack

  --quick                  CI-sized run (~2 min): ${QUICK.events} events, shorter phases, memory at 10k/100k
  --events <n>             events preloaded for the throughput phase (default ${FULL.events})
  --customers <n>          customers they spread over (default ${FULL.customers})
  --partitions <n>         partitions of the pipeline's topics (default ${FULL.partitions}, as TOPIC_PARTITIONS)
  --raw-partitions <n>     partitions of each raw storefront topic (default ${FULL.rawPartitions}, as \`generate\`)
  --activity-skew <s>      Zipf exponent of customer activity (default ${FULL.activitySkew}: the busiest of 100k
                           customers makes 2% of the events; the generator's own default, 1.1, makes it 13%)
  --rate <events/s>        offered rate of the latency phase, open loop (default ${FULL.rate})
  --warmup <d>             excluded start of the latency phase (default ${FULL.warmupMs / 1000}s)
  --latency-duration <d>   measured part of the latency phase (default ${FULL.latencyMs / 1000}s)
  --curve-rates <list>     offered rates of the latency curve (default ${FULL.curveRates.join(',')}; stops at saturation)
  --curve-duration <d>     measured part of each curve point (default ${FULL.curveMs / 1000}s, after ${FULL.curveWarmupMs / 1000}s warm-up)
  --evaluators <n>         evaluator processes in the pipeline's group (default ${FULL.evaluators})
  --scaling <list>         evaluator counts of the scaling phase (default ${FULL.scalingEvaluators.join(',')})
  --scaling-events <n>     events preloaded for each scaling run (default ${FULL.scalingEvents})
  --compression <list>     codecs of the compression phase (default ${FULL.compressionCodecs.join(',')}: KAFKA_COMPRESSION of the services)
  --compression-events <n> events preloaded for each codec (default ${FULL.compressionEvents})
  --timer-rate <events/s>  load during the timer phase (default ${FULL.timerRate})
  --timer-customers <n>    customers of the timer phase (default ${FULL.timerCustomers})
  --timer-duration <d>     length of the timer phase (default ${FULL.timerMs / 1000}s)
  --memory-sizes <list>    customer counts of the memory phase (default ${FULL.memorySizes.join(',')})
  --phases <list>          run only these of: ${PHASES.join(',')}
  --profile                run the services with --cpu-prof (profiles in bench/results/tmp/)
  --node-options <text>    NODE_OPTIONS for the services (e.g. --max-semi-space-size=64)
  --service-env <K=V,...>  extra environment for the services (e.g. EVALUATOR_MAX_BATCH_EVENTS=500)
  --keep                   keep the run's topics and Redis keys (for inspection)
  --note <text>            free text stored with the results (e.g. what changed)
  --seed <n>               generator seed (default 7)
  -h, --help               this text

Durations: a number and a unit (90s, 2m, 500ms; a bare number is refused). Results: bench/results/latest.json (+ history/), a table on
stdout, and bench/results/latest.svg.`;

/** The one duration grammar (packages/duration), loaded when a duration flag is given. */
function duration(text, name) {
  return pkgs.duration.durationOrThrow(text, name);
}

function count(text, name, min = 1) {
  const n = Number(String(text).replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}: expected an integer ≥ ${min}, got "${text}"`);
  return n;
}

/** Comma-separated list, trimmed, empty items dropped. */
const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** Each valued flag: how its text becomes the option it sets. */
const VALUED = {
  events: (o, v, f) => (o.events = count(v, f)),
  customers: (o, v, f) => (o.customers = count(v, f)),
  partitions: (o, v, f) => (o.partitions = count(v, f)),
  'raw-partitions': (o, v, f) => (o.rawPartitions = count(v, f)),
  'activity-skew': (o, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error('--activity-skew: expected a number ≥ 0');
    o.activitySkew = n;
  },
  rate: (o, v, f) => (o.rate = count(v, f)),
  warmup: (o, v, f) => (o.warmupMs = duration(v, f)),
  'latency-duration': (o, v, f) => (o.latencyMs = duration(v, f)),
  'curve-rates': (o, v, f) => (o.curveRates = list(v).map((x) => count(x, f))),
  'curve-duration': (o, v, f) => (o.curveMs = duration(v, f)),
  evaluators: (o, v, f) => (o.evaluators = count(v, f)),
  scaling: (o, v, f) => (o.scalingEvaluators = list(v).map((x) => count(x, f))),
  'scaling-events': (o, v, f) => (o.scalingEvents = count(v, f)),
  compression: (o, v) => {
    const codecs = Object.keys(pkgs.kafka.COMPRESSION_TYPES);
    const bad = list(v).filter((c) => !codecs.includes(c));
    if (bad.length) throw new Error(`--compression: unknown codec ${bad.join(', ')} (${codecs.join(', ')})`);
    o.compressionCodecs = list(v);
  },
  'compression-events': (o, v, f) => (o.compressionEvents = count(v, f)),
  'timer-rate': (o, v, f) => (o.timerRate = count(v, f)),
  'timer-customers': (o, v, f) => (o.timerCustomers = count(v, f)),
  'timer-duration': (o, v, f) => (o.timerMs = duration(v, f)),
  'memory-sizes': (o, v, f) => (o.memorySizes = list(v).map((x) => count(x, f))),
  phases: (o, v) => {
    const bad = list(v).filter((p) => !PHASES.includes(p));
    if (bad.length) throw new Error(`--phases: unknown ${bad.join(', ')} (known: ${PHASES.join(', ')})`);
    o.phases = list(v);
  },
  'node-options': (o, v) => (o.nodeOptions = v),
  'service-env': (o, v) => {
    o.serviceEnv = {};
    for (const kv of v.split(',')) {
      const eq = kv.indexOf('=');
      if (eq < 1 || !/^[A-Z][A-Z0-9_]*$/.test(kv.slice(0, eq))) throw new Error(`--service-env: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
      o.serviceEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  },
  note: (o, v) => (o.note = v),
  seed: (o, v, f) => (o.seed = count(v, f, 0)),
};

const FLAGS = {
  quick: { type: 'boolean' },
  profile: { type: 'boolean' },
  keep: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(Object.keys(VALUED).map((k) => [k, { type: 'string' }])),
};

/** Parses argv (node:util parseArgs) into the options of one run. Throws with a message naming the bad flag. */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new Error(`${err.message} (see --help)`);
  }
  if (values.help) return { help: HELP };
  const quick = values.quick === true;
  const o = { ...(quick ? QUICK : FULL), quick, phases: [...PHASES], profile: values.profile === true, keep: values.keep === true, note: '', seed: 7 };
  for (const [flag, set] of Object.entries(VALUED)) if (values[flag] !== undefined) set(o, values[flag], `--${flag}`);
  // The backfill phase works on what the throughput phase left; that one, and the baseline, read what the preload wrote.
  if (o.phases.includes('backfill') && !o.phases.includes('throughput')) o.phases.splice(o.phases.indexOf('backfill'), 0, 'throughput');
  if ((o.phases.includes('baseline') || o.phases.includes('throughput')) && !o.phases.includes('preload')) o.phases.unshift('preload');
  return o;
}

module.exports = { parseOptions, PHASES, HELP };
