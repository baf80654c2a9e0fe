/**
 * `labelstream rules diff NEW.yaml`: the dry run of a live rules change (README "Changing
 * rules"), read-only. Against the rules in force and the customer states in Redis it counts,
 * per label, the customers that would enter and leave.
 *
 * A new or redefined feature has a storage key no stored state holds; at the switch the
 * evaluator backfills it from the retained input history before its sweep decides. The dry
 * run does the same backfill in memory (the evaluator's `runBackfill` over the same history
 * range, with an `apply` that only tallies), so its figures are the deploy's, and it says how
 * far back the history reached and until when each such feature warms. `--no-backfill`
 * counts those features as empty instead: the most the deploy can change, without Kafka.
 */
import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_TOPICS } from '@labelstream/contracts';
import { DURATION_GRAMMAR, parseDuration } from '@labelstream/duration';
import {
  DEFAULT_BACKFILL_MAX_CUSTOMERS,
  backfillPlan,
  decodeState,
  DiffTally,
  labelsUnder,
  labelsUnderBackfill,
  runBackfill,
  sweepDurationMs,
  toEngineEvent,
  warmingAfterSwitch,
  warmingMap,
  type BackfillIo,
  type BackfillPlan,
  type DiffSummary,
  type WarmingFeature,
} from '@labelstream/engine';
import { decodeCustomerHistory, readPartitionHistory, type HistoryReach, type Registry } from '@labelstream/kafka';
import { compareRules, type CompiledRules, type RulesComparison } from '@labelstream/rules';
import { mastersOf, PartitionKeys, PartitionStore, readPartitionRules, RulesChannel, type RedisClient } from '@labelstream/redis-state';
import { KAFKA_SOURCE_ENV } from './environment';
import { kafkaClients, kafkaSourceOptions, type KafkaSourceOptions } from './kafka-source';
import { compileFile, connect, EXIT, partitionsWithState, rulesInForce, withRedis, type RedisOpts } from './rules-live';

/** The evaluator's EVALUATOR_BACKFILL_MAX_CUSTOMERS default: folds one backfill pass holds in memory. */

/** How a new or redefined feature comes out of the simulated backfill on one partition. */
export interface PartitionBackfill {
  partition: number;
  /** How far back the partition's history reached (ISO); null: to the log start, nothing was ever deleted. */
  reachedBack: string | null;
  /** The history covers the feature's window: whole at the switch, nothing warms. */
  whole: boolean;
  /** When not whole: when the feature is whole (ISO), as the switch would record it; null: never (a lifetime feature). */
  warmsUntil: string | null;
}

/** A new or redefined feature (backfilled at the switch). */
export interface FeatureWarmUp {
  feature: string;
  history: string;
  /** When it is whole at the latest (now + window), should the input topic hold none of its history; null for a lifetime feature. */
  fullFrom: string | null;
  /** The simulated backfill, per partition with state; absent when not simulated (`--no-backfill`). */
  partitions?: PartitionBackfill[];
}

/** A dry run's full answer (`--json`). */
export interface DiffReport {
  valid: true;
  from: { seq: number; version: string };
  to: { version: string };
  rules: RulesComparison;
  /**
   * How the customer figures treat new and redefined features: `simulated` — backfilled
   * from the input topic as the switch will (the deploy's figures); `skipped` — counted
   * empty (`--no-backfill`: the most the deploy can change); `not-needed` — there are none.
   */
  backfill: 'simulated' | 'skipped' | 'not-needed';
  customers: DiffSummary;
  warmingUp: FeatureWarmUp[];
  sweep: { perSecond: number; instances: number; estimatedMs: number };
}

/**
 * How each of `features` comes out of a partition's backfill, from the warm-up the switch
 * computes ({@link warmingAfterSwitch}) with the history's reach `since`. Pure.
 */
export function partitionBackfill(partition: number, features: readonly string[], since: number, warming: readonly WarmingFeature[]): Map<string, PartitionBackfill> {
  const reachedBack = since === Number.NEGATIVE_INFINITY ? null : new Date(since).toISOString();
  const out = new Map<string, PartitionBackfill>();
  for (const feature of features) {
    const w = warming.find((x) => x.feature === feature);
    out.set(feature, { partition, reachedBack, whole: w === undefined, warmsUntil: w?.until == null ? null : new Date(w.until).toISOString() });
  }
  return out;
}

/** Streams every customer state (SCAN, MGET per page): bounded memory whatever the number of customers. New features count as empty. */
async function tallyCustomers(redis: RedisClient, prefix: string, next: CompiledRules, warming: ReadonlyMap<string, number>, onProgress: (n: number) => void): Promise<DiffSummary> {
  const tally = new DiffTally(5);
  const idOf = /:\{p\d+\}:c:(.*)$/s;
  let seen = 0;
  // SCAN runs per node (every master of a Redis Cluster); the keys of one page share a slot only per partition, so one GET each.
  for (const node of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await node.scan(cursor, 'MATCH', `${prefix}:{p*}:c:*`, 'COUNT', 2000);
      cursor = nextCursor;
      if (keys.length) {
        const values = await Promise.all(keys.map((k) => node.get(k)));
        keys.forEach((k, i) => {
          const v = values[i];
          const id = idOf.exec(k)?.[1] ?? k;
          if (v == null) return; // gone since the SCAN
          try {
            const { before, after } = labelsUnder(decodeState(v.slice(v.indexOf('|') + 1)), next, warming);
            tally.add(id, before, after);
          } catch {
            tally.unreadable();
          }
        });
        seen += keys.length;
        onProgress(seen);
      }
    } while (cursor !== '0');
  }
  return tally.result();
}

/** Where the history is read from, and the backfill's memory bound. */
interface HistorySource {
  kafka: Kafka;
  registry: Registry;
  topic: string;
  /** Where, for the message when it cannot be read. */
  brokers: string;
  registryUrl: string;
  maxCustomers: number;
  /** How far an event's time may be ahead of its record's time (INGEST_MAX_FUTURE_SKEW). */
  futureSkewMs: number;
}

/**
 * The switch's backfill, simulated per partition with state: `runBackfill` over the
 * history the switch would read (from one longest window before the oldest customer clock, or the log start,
 * up to the offset the partition's states have applied), with an `apply` that merges the
 * folds into decoded copies of the states and tallies the labels the sweep would then
 * decide, under the warm-up the history's reach leaves. Nothing is written. Memory: the
 * driver's `maxCustomers` folds, one page of states.
 */
async function simulateBackfill(
  redis: RedisClient,
  prefix: string,
  from: CompiledRules,
  next: CompiledRules,
  plan: BackfillPlan,
  features: readonly string[],
  src: HistorySource,
  now: number,
  onProgress: (p: { partition: number; events: number; customers: number }) => void,
): Promise<{ customers: DiffSummary; byFeature: Map<string, PartitionBackfill[]> }> {
  const tally = new DiffTally(5);
  const byFeature = new Map(features.map((f) => [f, [] as PartitionBackfill[]] as const));
  const seen = { partition: 0, events: 0, customers: 0 };
  for (const partition of await partitionsWithState(redis, prefix)) {
    seen.partition = partition;
    const store = new PartitionStore(redis, prefix, partition);
    // Features of earlier switches still warming carry over into the switch, as the evaluator carries them.
    const carried = (await readPartitionRules(redis, new PartitionKeys(prefix, partition))).warming;
    const until = await store.appliedOffset();
    // The oldest customer clock, as the driver's first scan finds it (where the history starts, and what it must cover).
    let oldestClock: number | undefined;
    // The warm-up of the customers a pass applies: that of its own read (the switch takes the
    // pass that reached least far back; they differ only if the retention moved meanwhile).
    let warming: ReadonlyMap<string, number> = new Map();
    const io: BackfillIo<HistoryReach> = {
      readHistory: async (sinceMs, keep, onEvents) => {
        let reach: HistoryReach;
        try {
          reach = await readPartitionHistory(
            src.kafka,
            { topic: src.topic, partition, sinceMs, until },
            async (records) => {
              await onEvents((await decodeCustomerHistory(src.registry, records, keep)).map(toEngineEvent));
              seen.events += records.length;
              onProgress(seen);
            },
            { groupIdPrefix: 'labelstream-rules-diff', now },
          );
        } catch (e) {
          throw new Error(
            `cannot read the history of ${src.topic} partition ${partition} (brokers ${src.brokers}, registry ${src.registryUrl}) to simulate the backfill of ${features.join(', ')}: ${(e as Error).message}. With --no-backfill the diff counts those features as empty instead (the most the deploy can change).`,
          );
        }
        warming = warmingMap(warmingAfterSwitch(from, next, now, carried, reach.since, { oldestClock, futureSkewMs: src.futureSkewMs }));
        return reach;
      },
      scanCustomers: (cursor) => store.scanCustomers(cursor, 1000),
      clocks: async (customers) => {
        const clocks = [...(await store.load([...customers])).values()].flatMap((s) => (s.state ? [decodeState(s.state).c] : []));
        for (const c of clocks) if (oldestClock === undefined || c < oldestClock) oldestClock = c;
        return clocks;
      },
      apply: async (customers, folds) => {
        const stored = await store.load([...customers]);
        for (const id of customers) {
          const s = stored.get(id);
          if (!s?.state) continue; // gone since the SCAN
          try {
            const { before, after } = labelsUnderBackfill(decodeState(s.state), folds.get(id), next, plan.keys, warming);
            tally.add(id, before, after);
          } catch {
            tally.unreadable();
          }
        }
        seen.customers += customers.length;
        onProgress(seen);
      },
    };
    const run = await runBackfill(io, next, plan, { at: now, futureSkewMs: src.futureSkewMs, maxCustomers: src.maxCustomers });
    const reached = partitionBackfill(partition, features, run.reach.since, warmingAfterSwitch(from, next, now, carried, run.reach.since, { oldestClock: run.oldestClock, futureSkewMs: src.futureSkewMs }));
    for (const [f, p] of reached) byFeature.get(f)!.push(p);
  }
  return { customers: tally.result(), byFeature };
}

/** A progress line on a terminal's stderr (nothing elsewhere), redrawn at most every 100 ms and erased when done. */
function progressLine(): { show(text: string): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY);
  let last = 0;
  return {
    show(text) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      process.stderr.write(`\r\x1b[K${text}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

function bar(n: number, total: number): string {
  const width = 30;
  const fill = Math.round((total > 0 ? Math.min(1, n / total) : 0) * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${n}${total ? ` of ~${total}` : ''} keys`;
}

/** One line per new or redefined feature: what the backfill gives it at the switch. */
function warmUpLine(w: FeatureWarmUp, backfill: DiffReport['backfill']): string {
  if (backfill !== 'simulated' || !w.partitions)
    return w.fullFrom === null
      ? `  ${w.feature}: counted empty here (--no-backfill); backfilled from the input topic at the switch; if the topic ever deleted events, warming up for ever (lifetime)`
      : `  ${w.feature}: counted empty here (--no-backfill); backfilled from the input topic at the switch; if it holds less than ${w.history}, warming up until ${w.fullFrom} at the latest`;
  const ps = w.partitions;
  if (!ps.length) return `  ${w.feature}: no partition has stored customers: nothing to backfill`;
  const short = ps.filter((p) => !p.whole);
  if (!short.length) return `  ${w.feature}: backfilled from the input topic, whose history covers its ${w.history} on ${ps.length === 1 ? 'the partition' : `all ${ps.length} partitions`}: whole at the switch`;
  // The partition that warms longest (a lifetime feature: for ever) speaks for the rest.
  const worst = short.reduce((a, b) => (a.warmsUntil === null ? a : b.warmsUntil === null || b.warmsUntil > a.warmsUntil ? b : a));
  const where = ps.length === 1 ? `p${worst.partition}` : `p${worst.partition}${short.length > 1 ? ` and ${short.length - 1} more` : ''} of ${ps.length} partitions`;
  const reach = worst.reachedBack === null ? 'to its start' : `only to ${worst.reachedBack}`;
  return `  ${w.feature}: backfilled from the input topic, whose history reaches back ${reach} (${where}): warming up ${worst.warmsUntil === null ? 'for ever (lifetime)' : `until ${worst.warmsUntil}`}`;
}

export function formatDiff(r: DiffReport): string {
  const lines: string[] = [];
  lines.push(`rules ${r.from.version} (sequence ${r.from.seq}) -> ${r.to.version}`);
  const c = r.rules;
  if (c.same) lines.push('no customer-visible change (only comments, formatting or the version)');
  if (c.labelsAdded.length) lines.push(`labels added:    ${c.labelsAdded.join(', ')}`);
  if (c.labelsRemoved.length) lines.push(`labels removed:  ${c.labelsRemoved.join(', ')} (holders lose them, reason rules-changed)`);
  if (c.labelsChanged.length) lines.push(`labels changed:  ${c.labelsChanged.join(', ')}`);
  if (c.windowsChanged.length) lines.push(`windows changed: ${c.windowsChanged.join(', ')} (stored buckets reused)`);
  for (const f of c.features) lines.push(`feature ${f.name} ${f.change}: needs ${f.history} of history, read by ${f.readBy.join(', ')}`);
  for (const w of r.warmingUp) lines.push(warmUpLine(w, r.backfill));
  lines.push('');
  lines.push(`customers: ${r.customers.customers} scanned, ${r.customers.changed} would change${r.customers.unreadable ? `, ${r.customers.unreadable} unreadable` : ''}`);
  if (r.backfill === 'skipped') lines.push('  (new and redefined features counted empty: the most the deploy can change; without --no-backfill the diff backfills them as the switch will)');
  const names = Object.keys(r.customers.labels);
  if (names.length) {
    const w = Math.max(5, ...names.map((n) => n.length));
    lines.push(`${'label'.padEnd(w)}  ${'enter'.padStart(8)}  ${'leave'.padStart(8)}  examples`);
    for (const n of names) {
      const d = r.customers.labels[n]!;
      const ex = [...d.enterExamples.map((x) => `+${x}`), ...d.leaveExamples.map((x) => `-${x}`)].join(' ');
      lines.push(`${n.padEnd(w)}  ${String(d.enter).padStart(8)}  ${String(d.leave).padStart(8)}  ${ex}`);
    }
  }
  lines.push(`sweep: about ${Math.ceil(r.sweep.estimatedMs / 1000)} s at ${r.sweep.perSecond} customers/s x ${r.sweep.instances} evaluator(s)`);
  return lines.join('\n');
}

interface DiffOptions extends RedisOpts, KafkaSourceOptions {
  current: string;
  json?: boolean;
  maxChanged?: string;
  sweepRate: string;
  instances: string;
  backfill: boolean;
  backfillMaxCustomers: string;
  maxFutureSkew: string;
}

export function registerRulesDiff(rules: Command): void {
  withRedis(
    kafkaSourceOptions(
      rules
        .command('diff')
        .description('dry run: what a rules file would change against the rules in force and the live customer states, new and redefined features backfilled from the input topic as the switch will (read-only)')
        .argument('<file>', 'rules file')
        .option('--current <file>', 'the evaluators\' rules file, used when nothing was deployed', 'rules/default.yaml')
        .option('--json', 'machine-readable output')
        .option('--max-changed <n>', 'exit 4 when more customers would change than this')
        .option('--sweep-rate <n>', 'EVALUATOR_SWEEP_RATE of the evaluators', '2000')
        .option('--instances <n>', 'evaluator instances sharing the sweep', '1')
        .option('--no-backfill', 'do not read the input topic: count new and redefined features as empty (the most the deploy can change)')
        .option('--backfill-max-customers <n>', 'EVALUATOR_BACKFILL_MAX_CUSTOMERS: customers whose backfill one pass over the history holds in memory', String(DEFAULT_BACKFILL_MAX_CUSTOMERS))
        .option('--max-future-skew <duration>', 'INGEST_MAX_FUTURE_SKEW of ingest: how far an event\'s time may be ahead of its record\'s (the backfill reads that much more history)', process.env.INGEST_MAX_FUTURE_SKEW ?? `${DEFAULT_MAX_FUTURE_SKEW_MS}ms`),
      { description: 'the evaluators\' input topic, whose history the backfill reads (TOPIC_CUSTOMER_EVENTS)', default: process.env.TOPIC_CUSTOMER_EVENTS ?? DEFAULT_TOPICS.customerEvents },
    ),
    [...KAFKA_SOURCE_ENV, ['TOPIC_CUSTOMER_EVENTS', 'default for --topic'], ['INGEST_MAX_FUTURE_SKEW', 'default for --max-future-skew']],
  ).action(async (file: string, opts: DiffOptions) => {
    const compiled = compileFile(file);
    if (!compiled) return;
    const maxCustomers = Number(opts.backfillMaxCustomers);
    if (!(Number.isInteger(maxCustomers) && maxCustomers >= 1)) {
      console.error(`--backfill-max-customers must be a whole number of at least 1, got ${opts.backfillMaxCustomers}`);
      process.exitCode = EXIT.failed;
      return;
    }
    const futureSkewMs = parseDuration(opts.maxFutureSkew);
    if (futureSkewMs === undefined) {
      console.error(`--max-future-skew must be ${DURATION_GRAMMAR}, got ${opts.maxFutureSkew}`);
      process.exitCode = EXIT.failed;
      return;
    }
    const redis = connect(opts);
    try {
      const from = await rulesInForce(new RulesChannel(redis, opts.prefix), opts.current);
      if (!from) return;
      const next = compiled.rules;
      const comparison = compareRules(from.rules, next);
      const features = comparison.features.map((f) => f.name);
      const now = Date.now();
      // A new key no label reads (yet) changes no label: only those read are worth the history.
      const plan = features.length ? backfillPlan(from.rules, next) : null;
      const backfill: DiffReport['backfill'] = plan === null ? 'not-needed' : opts.backfill ? 'simulated' : 'skipped';
      let customers: DiffSummary;
      let reached: Map<string, PartitionBackfill[]> | undefined;
      const progress = progressLine();
      try {
        if (plan && opts.backfill) {
          const { kafka, registry } = kafkaClients(opts, 'labelstream-rules-diff');
          const src = { kafka, registry, topic: opts.topic, brokers: opts.brokers, registryUrl: opts.registry, maxCustomers, futureSkewMs };
          const sim = await simulateBackfill(redis, opts.prefix, from.rules, next, plan, features, src, now, (p) =>
            progress.show(`backfill p${p.partition}: ${p.events} history events read, ${p.customers} customers counted`),
          );
          customers = sim.customers;
          reached = sim.byFeature;
        } else {
          // Without a backfill the new features start empty, warming from now (labels with `whileWarming: hold` keep their state).
          const total = (await Promise.all(mastersOf(redis).map((n) => n.dbsize()))).reduce((a, b) => a + b, 0);
          const warming = new Map(comparison.features.filter((f) => f.historyMs !== null).map((f) => [f.name, now + f.historyMs!] as const));
          customers = await tallyCustomers(redis, opts.prefix, next, warming, (n) => progress.show(bar(n, total)));
        }
      } finally {
        progress.done();
      }
      const perSecond = Number(opts.sweepRate);
      const instances = Math.max(1, Number(opts.instances));
      const report: DiffReport = {
        valid: true,
        from: { seq: from.seq, version: from.rules.version },
        to: { version: next.version },
        rules: comparison,
        backfill,
        customers,
        warmingUp: comparison.features.map((f) => ({
          feature: f.name,
          history: f.history,
          fullFrom: f.historyMs === null ? null : new Date(now + f.historyMs).toISOString(),
          ...(reached ? { partitions: reached.get(f.name) ?? [] } : {}),
        })),
        sweep: { perSecond, instances, estimatedMs: sweepDurationMs(customers.customers, perSecond * instances) },
      };
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatDiff(report));
      if (opts.maxChanged !== undefined && customers.changed > Number(opts.maxChanged)) process.exitCode = EXIT.tooManyChanges;
    } finally {
      redis.disconnect();
    }
  });
}
