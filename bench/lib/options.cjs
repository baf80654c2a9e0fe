'use strict';
/**
 * `pnpm bench` options: defaults for the full run (about 10 minutes on a 2-core machine),
 * `--quick` for a CI-sized run (1–2 minutes), and flags for each knob.
 */

const PHASES = ['redis', 'preload', 'baseline', 'throughput', 'latency', 'curve', 'scaling', 'compression', 'timers', 'memory'];

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

Durations: 90s, 2m, 500ms. Results: bench/results/latest.json (+ history/), a table on
stdout, and bench/results/latest.svg.`;

function duration(text, name) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(text).trim());
  if (!m) throw new Error(`${name}: expected a duration such as 90s, 2m or 500ms, got "${text}"`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]]);
}

function count(text, name, min = 1) {
  const n = Number(String(text).replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}: expected an integer ≥ ${min}, got "${text}"`);
  return n;
}

/** Parses argv into the options of one run. Throws with a message naming the bad flag. */
function parseOptions(argv) {
  const args = [...argv];
  if (args.includes('-h') || args.includes('--help')) return { help: HELP };
  const quick = args.includes('--quick');
  const o = { ...(quick ? QUICK : FULL), quick, phases: [...PHASES], profile: false, keep: false, note: '', seed: 7 };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--events': o.events = count(value(), flag); break;
      case '--customers': o.customers = count(value(), flag); break;
      case '--partitions': o.partitions = count(value(), flag); break;
      case '--raw-partitions': o.rawPartitions = count(value(), flag); break;
      case '--activity-skew': {
        const v = Number(value());
        if (!Number.isFinite(v) || v < 0) throw new Error('--activity-skew: expected a number ≥ 0');
        o.activitySkew = v;
        break;
      }
      case '--rate': o.rate = count(value(), flag); break;
      case '--warmup': o.warmupMs = duration(value(), flag); break;
      case '--latency-duration': o.latencyMs = duration(value(), flag); break;
      case '--curve-rates': o.curveRates = value().split(',').map((x) => count(x, flag)); break;
      case '--curve-duration': o.curveMs = duration(value(), flag); break;
      case '--evaluators': o.evaluators = count(value(), flag); break;
      case '--scaling': o.scalingEvaluators = value().split(',').map((x) => count(x, flag)); break;
      case '--scaling-events': o.scalingEvents = count(value(), flag); break;
      case '--compression': {
        const list = value().split(',').map((x) => x.trim());
        const bad = list.filter((c) => !['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(c));
        if (bad.length) throw new Error(`--compression: unknown codec ${bad.join(', ')} (none, gzip, snappy, lz4, zstd)`);
        o.compressionCodecs = list;
        break;
      }
      case '--compression-events': o.compressionEvents = count(value(), flag); break;
      case '--timer-rate': o.timerRate = count(value(), flag); break;
      case '--timer-customers': o.timerCustomers = count(value(), flag); break;
      case '--timer-duration': o.timerMs = duration(value(), flag); break;
      case '--memory-sizes': o.memorySizes = value().split(',').map((s) => count(s, flag)); break;
      case '--phases': {
        const list = value().split(',').map((s) => s.trim()).filter(Boolean);
        const bad = list.filter((p) => !PHASES.includes(p));
        if (bad.length) throw new Error(`--phases: unknown ${bad.join(', ')} (known: ${PHASES.join(', ')})`);
        o.phases = list;
        break;
      }
      case '--profile': o.profile = true; break;
      case '--node-options': o.nodeOptions = value(); break;
      case '--service-env': {
        o.serviceEnv = {};
        for (const kv of value().split(',')) {
          const eq = kv.indexOf('=');
          if (eq < 1 || !/^[A-Z][A-Z0-9_]*$/.test(kv.slice(0, eq))) throw new Error(`--service-env: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
          o.serviceEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        break;
      }
      case '--keep': o.keep = true; break;
      case '--note': o.note = value(); break;
      case '--seed': o.seed = count(value(), flag, 0); break;
      default:
        throw new Error(`unknown option ${flag} (see --help)`);
    }
  }
  // The baseline and throughput phases read what the preload wrote.
  if ((o.phases.includes('baseline') || o.phases.includes('throughput')) && !o.phases.includes('preload')) o.phases.unshift('preload');
  return o;
}

module.exports = { parseOptions, PHASES, HELP };
