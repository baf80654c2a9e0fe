/**
 * Fault-run options: a CI-sized default, `--long` for the documented long run, and flags
 * to override any figure. Parsed once from argv and the environment (this is a script).
 */
import { join } from 'node:path';

export interface FaultOptions {
  /** Valid events to produce at least (production also lasts until the faults are done). */
  events: number;
  /** Events per second. */
  rate: number;
  customers: number;
  /** Zipf exponent of per-customer activity (the generator's `activitySkew`). */
  skew: number;
  seed: number;
  /** SIGKILLs (each followed by a restart) per service. */
  kills: { ingest: number; evaluator: number; publisher: number };
  /** kill -9 + restart of the run's own Redis (AOF, appendfsync always). */
  redisKills: number;
  /** Evaluator 1 → 3 → 1 cycles. */
  scaleCycles: number;
  /** Kafka broker restarts; > 0 runs the pipeline on a private Kafka + registry started for the run. */
  brokerRestarts: number;
  /**
   * Event times lead the wall clock by this much (ms), so that no event reaches the
   * evaluator after a timer due later than it has fired (see RELIABILITY.md, "Exactness").
   */
  leadMs: number;
  /** After production stops, let the wall clock run this long before the comparison horizon. */
  tailMs: number;
  /** Share of events sent with an event time 1–40 s in the past (out of order; some beyond the 30 s lateness). */
  lateRatio: number;
  /** Share of raw messages sent twice (same eventId). */
  duplicateRatio: number;
  /** Share of malformed raw messages (they must all land in the DLQ). */
  malformedRatio: number;
  /** Pause between two faults of one kind, random in [min, max] ms. */
  gapMs: { min: number; max: number };
  partitions: number;
  rulesFile: string;
  /** Where logs, the timeline and the report go. */
  outDir: string;
  /** Keep the run's topics (default: deleted at the end). */
  keepTopics: boolean;
  /** Run this evaluator build instead of services/evaluator/dist/main.js (to try a change, or an old version). */
  evaluatorMain?: string;
  /**
   * Redis Cluster (3 masters, 3 replicas) instead of one redis-server, with `evaluators`
   * evaluators and `redisKills` masters killed (kill -9) and failed over; on a private
   * Kafka + registry.
   */
  redisCluster: boolean;
  /** Evaluator processes run side by side (1; 3 with --redis-cluster). */
  evaluators: number;
  /** REDIS_WAIT_REPLICAS of the evaluators (0 = asynchronous replication). */
  redisWaitReplicas: number;
  /** Write the report to docs/runs/ (the committed evidence RELIABILITY.md quotes). */
  record: boolean;
}

const ROOT = join(__dirname, '..', '..', '..');

const CI: Omit<FaultOptions, 'outDir' | 'brokerRestarts' | 'keepTopics' | 'redisCluster' | 'evaluators' | 'redisWaitReplicas' | 'record'> = {
  events: 20_000,
  rate: 160,
  customers: 1500,
  skew: 0.9,
  seed: 11,
  kills: { ingest: 3, evaluator: 3, publisher: 3 },
  redisKills: 1,
  scaleCycles: 1,
  leadMs: 90_000,
  tailMs: 95_000,
  lateRatio: 0.03,
  duplicateRatio: 0.01,
  malformedRatio: 0.005,
  gapMs: { min: 2_000, max: 6_000 },
  partitions: 6,
  rulesFile: join(ROOT, 'rules', 'demo.yaml'),
};

/** The long run of RELIABILITY.md: 100 kills of each service. */
const LONG: Partial<FaultOptions> = {
  events: 150_000,
  rate: 40,
  customers: 3000,
  kills: { ingest: 100, evaluator: 100, publisher: 100 },
  redisKills: 10,
  scaleCycles: 5,
  gapMs: { min: 2_000, max: 8_000 },
};

/** The Redis Cluster run: 3 evaluators, 2 masters killed and failed over. */
const CLUSTER: Partial<FaultOptions> = { evaluators: 3, redisKills: 2, scaleCycles: 0 };

const USAGE = `usage: pnpm test:faults [--long] [--broker-restart] [--redis-cluster] [--redis-wait-replicas N] [--no-record]
  [--evaluators N] [--events N] [--rate N] [--customers N]
  [--kills N | --kills-ingest N --kills-evaluator N --kills-publisher N] [--redis-kills N]
  [--scale-cycles N] [--broker-restarts N] [--lead 90s] [--tail 95s] [--seed N] [--out DIR] [--keep-topics]
  [--customers-skew X] [--evaluator-main PATH]
Environment: FAULTS_BROKER_RESTART=1 is --broker-restart (one restart of a private broker).
--redis-cluster: a Redis Cluster (3 masters + 3 replicas) and 3 evaluators; --redis-kills counts
masters killed (kill -9) and failed over. The report also goes to docs/runs/ unless --no-record.`;

function seconds(text: string, flag: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`${flag}: expected a duration like 90s, got ${text}\n${USAGE}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** Parses argv (without node and the script) and the environment. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): FaultOptions {
  const args = [...argv];
  const long = args.includes('--long');
  const cluster = args.includes('--redis-cluster');
  const o: FaultOptions = {
    ...CI,
    ...(long ? LONG : {}),
    evaluators: 1,
    redisWaitReplicas: 0,
    record: true,
    ...(cluster ? CLUSTER : {}),
    redisCluster: cluster,
    kills: { ...(long ? LONG.kills! : CI.kills) },
    brokerRestarts: env.FAULTS_BROKER_RESTART === '1' || args.includes('--broker-restart') ? (long ? 3 : 1) : 0,
    outDir: join(ROOT, '.cache', 'faults', new Date().toISOString().replace(/[:.]/g, '-')),
    keepTopics: false,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${flag}: expected a whole number\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--long':
      case '--broker-restart':
      case '--redis-cluster':
        break;
      case '--no-record':
        o.record = false;
        break;
      case '--evaluators':
        o.evaluators = int();
        break;
      case '--redis-wait-replicas':
        o.redisWaitReplicas = int();
        break;
      case '--keep-topics':
        o.keepTopics = true;
        break;
      case '--events':
        o.events = int();
        break;
      case '--rate':
        o.rate = int();
        break;
      case '--customers':
        o.customers = int();
        break;
      case '--seed':
        o.seed = int();
        break;
      case '--kills': {
        const n = int();
        o.kills = { ingest: n, evaluator: n, publisher: n };
        break;
      }
      case '--kills-ingest':
        o.kills.ingest = int();
        break;
      case '--kills-evaluator':
        o.kills.evaluator = int();
        break;
      case '--kills-publisher':
        o.kills.publisher = int();
        break;
      case '--redis-kills':
        o.redisKills = int();
        break;
      case '--scale-cycles':
        o.scaleCycles = int();
        break;
      case '--broker-restarts':
        o.brokerRestarts = int();
        break;
      case '--lead':
        o.leadMs = seconds(value(), flag);
        break;
      case '--tail':
        o.tailMs = seconds(value(), flag);
        break;
      case '--out':
        o.outDir = value();
        break;
      case '--customers-skew':
        o.skew = Number(value());
        break;
      case '--evaluator-main':
        o.evaluatorMain = value();
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (o.rate < 1) throw new Error(`--rate must be at least 1\n${USAGE}`);
  if (o.evaluators < 1) throw new Error(`--evaluators must be at least 1\n${USAGE}`);
  if (o.redisWaitReplicas > 0 && !o.redisCluster) throw new Error(`--redis-wait-replicas needs --redis-cluster (the single redis-server has no replica)\n${USAGE}`);
  return o;
}
