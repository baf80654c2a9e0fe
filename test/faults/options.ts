/**
 * Fault-run options: a CI-sized default, `--long` for the documented long run, and flags
 * to override any figure. Parsed once from argv and the environment (this is a script).
 */
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DURATION_GRAMMAR, parseDuration } from '@labelstream/duration';

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
  /**
   * Mid-run, deploy a second rules file (rules-deploy.ts) through `labelstream rules deploy`
   * and SIGKILL an evaluator during the re-evaluation sweep; the oracle switches where each
   * partition did.
   */
  rulesDeploy: boolean;
  /** EVALUATOR_SWEEP_RATE of the run's evaluators: slow enough that the kill lands during the sweep. */
  sweepRate: number;
}

const ROOT = join(__dirname, '..', '..', '..');

const CI: Omit<FaultOptions, 'outDir' | 'brokerRestarts' | 'keepTopics' | 'redisCluster' | 'evaluators' | 'redisWaitReplicas' | 'record' | 'rulesDeploy'> = {
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
  sweepRate: 40,
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
  [--customers-skew X] [--evaluator-main PATH] [--rules-deploy] [--sweep-rate N]
Durations (--lead, --tail): a number and a unit, e.g. 90s, 2m (a bare number is refused).
Environment: FAULTS_BROKER_RESTART=1 is --broker-restart (one restart of a private broker).
--redis-cluster: a Redis Cluster (3 masters + 3 replicas) and 3 evaluators; --redis-kills counts
masters killed (kill -9) and failed over. The report also goes to docs/runs/ unless --no-record.
--rules-deploy: mid-run, \`labelstream rules deploy\` of the rules with one threshold changed and one
label added, and an evaluator SIGKILL during the re-evaluation sweep (--sweep-rate customers/s, 40).`;

/** The flags `parseArgs` reads; every value is checked and converted below. */
const FLAGS = {
  long: { type: 'boolean' },
  'broker-restart': { type: 'boolean' },
  'keep-topics': { type: 'boolean' },
  'redis-cluster': { type: 'boolean' },
  'no-record': { type: 'boolean' },
  'rules-deploy': { type: 'boolean' },
  'sweep-rate': { type: 'string' },
  evaluators: { type: 'string' },
  'redis-wait-replicas': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  events: { type: 'string' },
  rate: { type: 'string' },
  customers: { type: 'string' },
  seed: { type: 'string' },
  kills: { type: 'string' },
  'kills-ingest': { type: 'string' },
  'kills-evaluator': { type: 'string' },
  'kills-publisher': { type: 'string' },
  'redis-kills': { type: 'string' },
  'scale-cycles': { type: 'string' },
  'broker-restarts': { type: 'string' },
  lead: { type: 'string' },
  tail: { type: 'string' },
  out: { type: 'string' },
  'customers-skew': { type: 'string' },
  'evaluator-main': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type NumberFlag = 'sweep-rate' | 'events' | 'rate' | 'customers' | 'seed' | 'kills' | 'kills-ingest' | 'kills-evaluator' | 'kills-publisher' | 'redis-kills' | 'scale-cycles' | 'broker-restarts' | 'evaluators' | 'redis-wait-replicas';

function readFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // Unknown flags, missing values: node's message names the flag.
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
}

/** Parses argv (without node and the script) and the environment. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): FaultOptions {
  const values = readFlags(argv);
  if (values.help) throw new Error(USAGE);
  const fail = (flag: string, what: string): never => {
    throw new Error(`--${flag}: expected ${what}\n${USAGE}`);
  };
  const int = (flag: NumberFlag, fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : fail(flag, `a whole number, got ${text}`);
  };
  const duration = (flag: 'lead' | 'tail', fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    return parseDuration(text) ?? fail(flag, `${DURATION_GRAMMAR}; got ${text}`);
  };
  const long = values.long === true;
  const cluster = values['redis-cluster'] === true;
  const d: Omit<FaultOptions, 'outDir' | 'brokerRestarts' | 'keepTopics' | 'rulesDeploy'> = {
    ...CI,
    ...(long ? LONG : {}),
    evaluators: 1,
    redisWaitReplicas: 0,
    record: true,
    ...(cluster ? CLUSTER : {}),
    redisCluster: cluster,
  };
  const kills = int('kills', -1);
  const k = kills >= 0 ? { ingest: kills, evaluator: kills, publisher: kills } : d.kills;
  const skew = values['customers-skew'] === undefined ? d.skew : Number(values['customers-skew']);
  if (!Number.isFinite(skew) || skew < 0) fail('customers-skew', `a number ≥ 0, got ${values['customers-skew']}`);
  const o: FaultOptions = {
    ...d,
    events: int('events', d.events),
    rate: int('rate', d.rate),
    customers: int('customers', d.customers),
    seed: int('seed', d.seed),
    skew,
    kills: { ingest: int('kills-ingest', k.ingest), evaluator: int('kills-evaluator', k.evaluator), publisher: int('kills-publisher', k.publisher) },
    redisKills: int('redis-kills', d.redisKills),
    evaluators: int('evaluators', d.evaluators),
    redisWaitReplicas: int('redis-wait-replicas', d.redisWaitReplicas),
    record: values['no-record'] !== true,
    rulesDeploy: values['rules-deploy'] === true,
    sweepRate: int('sweep-rate', d.sweepRate),
    scaleCycles: int('scale-cycles', d.scaleCycles),
    brokerRestarts: int('broker-restarts', env.FAULTS_BROKER_RESTART === '1' || values['broker-restart'] ? (long ? 3 : 1) : 0),
    leadMs: duration('lead', d.leadMs),
    tailMs: duration('tail', d.tailMs),
    outDir: values.out ?? join(ROOT, '.cache', 'faults', new Date().toISOString().replace(/[:.]/g, '-')),
    keepTopics: values['keep-topics'] === true,
    ...(values['evaluator-main'] !== undefined ? { evaluatorMain: values['evaluator-main'] } : {}),
  };
  if (o.sweepRate < 1) throw new Error(`--sweep-rate must be at least 1\n${USAGE}`);
  if (o.rate < 1) throw new Error(`--rate must be at least 1\n${USAGE}`);
  if (o.evaluators < 1) throw new Error(`--evaluators must be at least 1\n${USAGE}`);
  if (o.redisWaitReplicas > 0 && !o.redisCluster) throw new Error(`--redis-wait-replicas needs --redis-cluster (the single redis-server has no replica)\n${USAGE}`);
  return o;
}
