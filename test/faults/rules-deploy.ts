/**
 * The rules deploy of the fault run (`--rules-deploy`, RELIABILITY.md "A rules deploy under
 * faults"): mid-run, a second rules file — the run's rules with one threshold changed, one
 * label added and one feature redefined (so backfilled from the input) — goes out through the real
 * `labelstream rules deploy`; once every partition has switched, an evaluator is SIGKILLed
 * while the re-evaluation sweep runs, and the step ends when every partition's sweep is done.
 * Afterwards the oracle reads each partition's switch point from Redis (what the owner
 * recorded with the switch) to know which events and timers ran under which version.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CustomerEvent } from '@labelstream/contracts';
import type { Rng } from '@labelstream/generator';
import type { RulesSwitch } from '@labelstream/oracle';
import { PartitionKeys, readPartitionRules, type PartitionRules, type RedisClient } from '@labelstream/redis-state';
import type { CompiledRules } from '@labelstream/rules';
import { waitFor } from '@labelstream/testkit';
import type { Fleet } from './fleet';
import type { TopicRecord } from './observe';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/** The changes made to the run's rules (rules/demo.yaml): each must apply exactly once. */
const EDITS: ReadonlyArray<{ what: string; from: RegExp; to: (m: string) => string }> = [
  { what: 'version', from: /^version: "([^"]+)"$/m, to: (m) => m.replace(/"$/, '-faults-deploy"') },
  { what: 'high_value threshold 500.00 → 450.00', from: /enter: "spend_2m >= 50000"/, to: () => 'enter: "spend_2m >= 45000"' },
  {
    what: 'spend_2m redefined: marketplace orders no longer count (a new definition: backfilled)',
    from: /^(\s*spend_2m:\s*\{ event: purchase, agg: sum, field: amountMinorBase, window: 2m) \}$/m,
    to: (m) => m.replace(/ \}$/, `, where: "event.channel != 'MARKETPLACE'" }`),
  },
  {
    what: 'label busy added (3+ orders in 5 minutes)',
    from: /^labels:\n/m,
    to: (m) => `${m}  busy:\n    category: behaviour\n    description: "Three or more orders in the last 5 minutes (added by the fault run's rules deploy)."\n    when: "orders_5m >= 3"\n\n`,
  },
];

/** The second rules file: the run's rules with {@link EDITS} applied. Throws when the run's rules are not shaped like rules/demo.yaml. */
export function deployedRulesText(text: string): string {
  let out = text;
  for (const e of EDITS) {
    if (!e.from.test(out)) throw new Error(`--rules-deploy edits rules/demo.yaml-shaped rules: no match for "${e.what}"`);
    out = out.replace(e.from, e.to);
  }
  return out;
}

/** One partition at the end of the run: its switch and sweep as Redis records them. */
export interface PartitionSwitch {
  partition: number;
  seq: number;
  version: string;
  switchedAt: number | null;
  nextOffset: string | null;
  timersUntil: number | null;
  swept: number;
  sweepDone: boolean;
}

export interface RulesDeployRecord {
  /** The deployed rules file (in the run's output directory). */
  file: string;
  fromVersion: string;
  toVersion: string;
  deployedAt: number;
  /** When the last partition had switched. */
  allSwitchedAt: number;
  /** The SIGKILL during the sweep. */
  kill: string;
  /** Customers swept (all partitions) when the evaluator was killed. */
  sweptAtKill: number;
  sweepDoneAt: number;
  /** Sweep progress: customers swept (all partitions) over time. */
  progress: Array<{ at: number; swept: number; partitionsDone: number }>;
  partitions: PartitionSwitch[];
}

export interface DeployDeps {
  fleet: Fleet;
  redis: RedisClient;
  redisUrl: string;
  keyPrefix: string;
  partitions: number;
  rulesFile: string;
  outDir: string;
  rng: Rng;
  log: (line: string) => void;
}

async function readAll(d: Pick<DeployDeps, 'redis' | 'keyPrefix' | 'partitions'>): Promise<PartitionRules[]> {
  return Promise.all(Array.from({ length: d.partitions }, (_, p) => readPartitionRules(d.redis, new PartitionKeys(d.keyPrefix, p))));
}

function toSwitch(p: number, r: PartitionRules): PartitionSwitch {
  return { partition: p, seq: r.seq, version: r.version, switchedAt: r.switchedAt, nextOffset: r.point?.nextOffset ?? null, timersUntil: r.point?.timersUntil ?? null, swept: r.swept, sweepDone: r.cursor === null };
}

/** The partitions' switches as Redis holds them now. */
export async function readSwitches(d: Pick<DeployDeps, 'redis' | 'keyPrefix' | 'partitions'>): Promise<PartitionSwitch[]> {
  return (await readAll(d)).map((r, p) => toSwitch(p, r));
}

/**
 * Deploys the second rules file with the CLI, waits for every partition to switch, SIGKILLs
 * a random evaluator once the sweep has started (and before it ends), starts a replacement,
 * and waits for every partition's sweep to finish.
 */
export async function deployMidRun(d: DeployDeps, fromRules: CompiledRules): Promise<RulesDeployRecord> {
  const file = join(d.outDir, 'rules-deploy.yaml');
  writeFileSync(file, deployedRulesText(readFileSync(d.rulesFile, 'utf8')));
  const env = { ...process.env, REDIS_URL: d.redisUrl, REDIS_KEY_PREFIX: d.keyPrefix };
  const deployedAt = Date.now();
  const { stdout } = await run(process.execPath, [join(ROOT, 'packages', 'cli', 'dist', 'main.js'), 'rules', 'deploy', file, '--note', 'fault run'], { env, cwd: ROOT });
  d.log(`rules deploy: ${stdout.trim().split('\n').join(' / ')}`);
  const progress: RulesDeployRecord['progress'] = [];
  let toVersion = '';
  let seq = 0;
  const sample = async () => {
    const all = await readAll(d);
    progress.push({ at: Date.now(), swept: all.reduce((n, r) => n + (r.seq > 0 ? r.swept : 0), 0), partitionsDone: all.filter((r) => r.seq > 0 && r.cursor === null).length });
    return all;
  };
  await waitFor(
    'every partition to switch to the deployed rules',
    async () => {
      const all = await sample();
      seq = Math.max(...all.map((r) => r.seq));
      toVersion = all.find((r) => r.seq === seq)?.version ?? '';
      return seq > 0 && all.every((r) => r.seq === seq);
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  const allSwitchedAt = Date.now();
  await waitFor('the sweep to be under way', async () => (await sample()).some((r) => r.swept > 0), { timeoutMs: 120_000, intervalMs: 100 });
  const before = await sample();
  const sweptAtKill = progress[progress.length - 1]!.swept;
  if (before.every((r) => r.cursor === null)) throw new Error('the sweep finished before the evaluator could be killed: lower EVALUATOR_SWEEP_RATE for the run');
  const victims = d.fleet.running('evaluator');
  const victim = victims[d.rng.int(0, victims.length - 1)]!;
  await d.fleet.kill(victim);
  const next = await d.fleet.start('evaluator');
  const kill = `SIGKILL ${victim.id} (pid ${victim.child.pid}) with ${sweptAtKill} customers swept and ${before.filter((r) => r.cursor !== null).length} partitions sweeping, replaced by ${next.id}`;
  d.log(`rules deploy: ${kill}`);
  const ticker = setInterval(() => void sample().catch(() => undefined), 2000);
  try {
    await waitFor('every partition to finish its sweep', async () => (await sample()).every((r) => r.seq === seq && r.cursor === null), { timeoutMs: 300_000, intervalMs: 500 });
  } finally {
    clearInterval(ticker);
  }
  const after = await readAll(d);
  return {
    file,
    fromVersion: fromRules.version,
    toVersion,
    deployedAt,
    allSwitchedAt,
    kill,
    sweptAtKill,
    sweepDoneAt: Date.now(),
    progress,
    partitions: after.map((r, p) => toSwitch(p, r)),
  };
}

/**
 * Each customer's part of the switch, for the oracle: its partition's switch point (the
 * first of its events at or after the partition's recorded `nextOffset` runs under the new
 * rules; timers after `timersUntil`). Every customer of a switched partition is re-evaluated
 * there (`swept`: by the sweep, or by the event or timer that reaches it first), and the
 * redefined feature is backfilled from the whole history (the run's input topic deletes
 * nothing). `how` turns either off, for the controls.
 */
export function switchesForOracle(
  newRules: CompiledRules,
  switches: readonly PartitionSwitch[],
  positions: ReadonlyMap<CustomerEvent, Pick<TopicRecord, 'partition' | 'offset'>>,
  how: { swept: boolean; backfill: boolean },
): (customerId: string, events: readonly CustomerEvent[]) => RulesSwitch | undefined {
  const byPartition = new Map(switches.map((s) => [s.partition, s]));
  return (customerId, events) => {
    const first = events[0];
    const at = first ? positions.get(first) : undefined;
    const s = at ? byPartition.get(at.partition) : undefined;
    if (!s || s.seq === 0) return undefined;
    const from = s.nextOffset === null ? null : BigInt(s.nextOffset);
    let firstEvent = events.length;
    if (from !== null) {
      const i = events.findIndex((e) => BigInt(positions.get(e)!.offset) >= from);
      if (i >= 0) firstEvent = i;
    }
    return { rules: newRules, firstEvent, timersUntil: s.timersUntil, swept: how.swept, backfill: how.backfill };
  };
}
