/**
 * `labelstream rules deploy | rollback | status | diff`: changing the rules of the running
 * evaluators through the rules channel in Redis (README "Changing rules"). Exit codes, for
 * deploy pipelines:
 *
 *   0  done (deploy published, diff computed, status printed)
 *   1  could not run (Redis unreachable, file unreadable)
 *   2  the rules file is invalid (nothing changed), or its version is not new
 *   3  refused: another deploy published first (nothing changed; deploy again after a review)
 *   4  diff: more customers would change than --max-changed allows
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { compareRules, formatIssues, lintRules, parseRules, type CompiledRules, type RulesComparison } from '@labelstream/rules';
import { decodeState, DiffTally, labelsUnder, sweepDurationMs, type DiffSummary } from '@labelstream/engine';
import { createRedisClient, mastersOf, RulesChannel, RulesConflictError, readPartitionRules, PartitionKeys, type PublishedRules, type RedisClient } from '@labelstream/redis-state';

export const EXIT = { ok: 0, failed: 1, invalid: 2, conflict: 3, tooManyChanges: 4 } as const;

interface RedisOpts {
  redis: string;
  prefix: string;
}

function connect(o: RedisOpts): RedisClient {
  return createRedisClient(o.redis, { redis: { maxRetriesPerRequest: 2, retryStrategy: (n) => (n > 3 ? null : 200) } });
}

function withRedis(cmd: Command): Command {
  return cmd
    .option('--redis <url>', 'the evaluators\' Redis (REDIS_URL)', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--prefix <prefix>', 'the evaluators\' key prefix (REDIS_KEY_PREFIX)', process.env.REDIS_KEY_PREFIX ?? 'lbl');
}

/** Reads and compiles a rules file; prints the reasons and returns null when it is invalid. */
function compileFile(file: string): { text: string; rules: CompiledRules } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`${file}: cannot read: ${(e as Error).message}`);
    process.exitCode = EXIT.failed;
    return null;
  }
  const parsed = parseRules(text, { source: file });
  if (!parsed.ok) {
    console.error(`${file}: INVALID, nothing changed\n${formatIssues(parsed.issues)}`);
    process.exitCode = EXIT.invalid;
    return null;
  }
  for (const w of lintRules(parsed.rules)) console.error(`${file}: warning [${w.code}] ${w.message}`);
  return { text, rules: parsed.rules };
}

/**
 * Why `next` may not be published on top of the channel's history: a version string names
 * one rule set for ever (decisions and explanations carry it), so a new text needs a new
 * version. Pure. Undefined when it may.
 */
export function versionProblem(next: { version: string; hash: string }, history: readonly PublishedRules[]): string | undefined {
  const same = history.find((h) => h.version === next.version && h.hash !== next.hash);
  if (same) return `version "${next.version}" was already published (sequence ${same.seq}) with other rules: give the changed file a new version`;
  return undefined;
}

/** The rules in force now: the channel's newest, or the evaluators' rules file when nothing was published. */
async function rulesInForce(channel: RulesChannel, fallbackFile: string): Promise<{ seq: number; rules: CompiledRules } | null> {
  const cur = await channel.current();
  if (cur) {
    const text = await channel.text(cur.seq);
    if (text !== null) return { seq: cur.seq, rules: parseRulesOrThrow(text, `rules channel #${cur.seq}`) };
  }
  const file = compileFile(fallbackFile);
  return file ? { seq: 0, rules: file.rules } : null;
}

function parseRulesOrThrow(text: string, source: string): CompiledRules {
  const r = parseRules(text, { source });
  if (!r.ok) throw new Error(`${source} no longer compiles:\n${formatIssues(r.issues)}`);
  return r.rules;
}

async function publish(channel: RulesChannel, text: string, rules: CompiledRules, note: string, expectSeq: number | undefined): Promise<void> {
  const cur = await channel.current();
  const expected = expectSeq ?? cur?.seq ?? 0;
  if (cur && cur.hash === rules.hash && expectSeq === undefined) {
    console.log(`rules ${rules.version} are already in force (sequence ${cur.seq}): nothing to do`);
    return;
  }
  const problem = versionProblem(rules, await channel.log(1000));
  if (problem) {
    console.error(`refused, nothing changed: ${problem}`);
    process.exitCode = EXIT.invalid;
    return;
  }
  try {
    const p = await channel.publish(text, { version: rules.version, hash: rules.hash, note }, expected, Date.now());
    console.log(`published rules ${p.version} as sequence ${p.seq}${cur ? ` (was ${cur.version}, sequence ${cur.seq})` : ''}. Each partition switches at its owner's next timer round, then re-evaluates its customers; follow with \`labelstream rules status\`.`);
  } catch (e) {
    if (e instanceof RulesConflictError) {
      console.error(`refused, nothing changed: ${e.message}`);
      process.exitCode = EXIT.conflict;
      return;
    }
    throw e;
  }
}

/** Rollout progress over every partition that has state. */
export interface RolloutStatus {
  published: PublishedRules | null;
  partitions: Array<{ partition: number; seq: number; version: string; sweeping: boolean; swept: number }>;
  /** Partitions at the published sequence with their sweep done. */
  done: number;
}

async function rolloutStatus(redis: RedisClient, prefix: string, channel: RulesChannel): Promise<RolloutStatus> {
  const published = await channel.current();
  const found = new Set<number>();
  const re = new RegExp(`^${prefix.replace(/[-]/g, '\\-')}:\\{p(\\d+)\\}:epoch$`);
  for (const node of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:{p*}:epoch`, 'COUNT', 1000);
      for (const k of keys) {
        const m = re.exec(k);
        if (m) found.add(Number(m[1]));
      }
      cursor = next;
    } while (cursor !== '0');
  }
  const partitions = [];
  for (const p of [...found].sort((a, b) => a - b)) {
    const r = await readPartitionRules(redis, new PartitionKeys(prefix, p));
    partitions.push({ partition: p, seq: r.seq, version: r.version || '(rules file)', sweeping: r.cursor !== null, swept: r.swept });
  }
  const target = published?.seq ?? 0;
  return { published, partitions, done: partitions.filter((p) => p.seq === target && !p.sweeping).length };
}

/** A dry run's full answer (`--json`). */
export interface DiffReport {
  valid: true;
  from: { seq: number; version: string };
  to: { version: string };
  rules: RulesComparison;
  customers: DiffSummary;
  /** New or redefined features (backfilled at the switch), with when they are full at the latest, should the input topic hold none of their history. */
  warmingUp: Array<{ feature: string; history: string; fullFrom: string | null }>;
  sweep: { perSecond: number; instances: number; estimatedMs: number };
}

/** Streams every customer state (SCAN, MGET per page): bounded memory whatever the number of customers. */
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

function progressBar(total: number): { update(n: number): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY);
  let last = 0;
  return {
    update(n) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      const frac = total > 0 ? Math.min(1, n / total) : 0;
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${n}${total ? ` of ~${total}` : ''} keys`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
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
  // The dry run does not read the input topic: it names the worst case the backfill leaves.
  for (const w of r.warmingUp)
    lines.push(
      w.fullFrom === null
        ? `  ${w.feature}: backfilled from the input topic at the switch; if the topic ever deleted events, warming up for ever (lifetime)`
        : `  ${w.feature}: backfilled from the input topic at the switch; if it holds less than ${w.history}, warming up until ${w.fullFrom} at the latest`,
    );
  lines.push('');
  lines.push(`customers: ${r.customers.customers} scanned, ${r.customers.changed} would change${r.customers.unreadable ? `, ${r.customers.unreadable} unreadable` : ''}`);
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

export function registerRulesLive(rules: Command): void {
  withRedis(
    rules
      .command('deploy')
      .description('validate a rules file and publish it to the running evaluators (each partition switches once, then re-evaluates every customer)')
      .argument('<file>', 'rules file')
      .option('--expect-seq <n>', 'publish only if the rules in force are this sequence (serialises deploys in a pipeline)')
      .option('--note <text>', 'why: kept in the rules log'),
  ).action(async (file: string, opts: RedisOpts & { expectSeq?: string; note?: string }) => {
    const compiled = compileFile(file);
    if (!compiled) return;
    const redis = connect(opts);
    try {
      await publish(new RulesChannel(redis, opts.prefix), compiled.text, compiled.rules, opts.note ?? `deploy ${file}`, opts.expectSeq === undefined ? undefined : Number(opts.expectSeq));
    } finally {
      redis.disconnect();
    }
  });

  withRedis(
    rules
      .command('rollback')
      .description('publish the rules that were in force before the current ones, as a new sequence')
      .option('--file <file>', 'the evaluators\' rules file, when rolling back the first deploy', 'rules/default.yaml'),
  ).action(async (opts: RedisOpts & { file: string }) => {
    const redis = connect(opts);
    try {
      const channel = new RulesChannel(redis, opts.prefix);
      const cur = await channel.current();
      if (!cur) {
        console.error('nothing was deployed: the evaluators run their rules file');
        process.exitCode = EXIT.invalid;
        return;
      }
      const prevText = cur.seq > 1 ? await channel.text(cur.seq - 1) : null;
      const text = prevText ?? readFileSync(opts.file, 'utf8');
      const prev = parseRulesOrThrow(text, prevText !== null ? `rules channel #${cur.seq - 1}` : opts.file);
      await publish(channel, text, prev, `rollback of ${cur.version} (sequence ${cur.seq})`, cur.seq);
    } finally {
      redis.disconnect();
    }
  });

  withRedis(rules.command('status').description('the published rules and, per partition, the version in force and its re-evaluation sweep').option('--json', 'machine-readable output')).action(
    async (opts: RedisOpts & { json?: boolean }) => {
      const redis = connect(opts);
      try {
        const s = await rolloutStatus(redis, opts.prefix, new RulesChannel(redis, opts.prefix));
        if (opts.json) {
          console.log(JSON.stringify(s, null, 2));
          return;
        }
        console.log(s.published ? `published: ${s.published.version} (sequence ${s.published.seq}, ${new Date(s.published.publishedAt).toISOString()}, ${s.published.note})` : 'published: nothing (the evaluators run their rules file)');
        console.log(`rollout: ${s.done} of ${s.partitions.length} partitions switched and swept`);
        for (const p of s.partitions) console.log(`  p${p.partition}: sequence ${p.seq} ${p.version}${p.sweeping ? `, sweeping (${p.swept} customers so far)` : p.seq ? `, swept ${p.swept} customers` : ''}`);
      } finally {
        redis.disconnect();
      }
    },
  );

  withRedis(
    rules
      .command('diff')
      .description('dry run: what a rules file would change against the rules in force and the live customer states (read-only)')
      .argument('<file>', 'rules file')
      .option('--current <file>', 'the evaluators\' rules file, used when nothing was deployed', 'rules/default.yaml')
      .option('--json', 'machine-readable output')
      .option('--max-changed <n>', 'exit 4 when more customers would change than this')
      .option('--sweep-rate <n>', 'EVALUATOR_SWEEP_RATE of the evaluators', '2000')
      .option('--instances <n>', 'evaluator instances sharing the sweep', '1'),
  ).action(async (file: string, opts: RedisOpts & { current: string; json?: boolean; maxChanged?: string; sweepRate: string; instances: string }) => {
    const compiled = compileFile(file);
    if (!compiled) return;
    const redis = connect(opts);
    try {
      const from = await rulesInForce(new RulesChannel(redis, opts.prefix), opts.current);
      if (!from) return;
      const comparison = compareRules(from.rules, compiled.rules);
      const total = (await Promise.all(mastersOf(redis).map((n) => n.dbsize()))).reduce((a, b) => a + b, 0);
      const bar = progressBar(total);
      const now = Date.now();
      // As the switch would start them: labels with `whileWarming: hold` keep their state.
      const warming = new Map(comparison.features.filter((f) => f.historyMs !== null).map((f) => [f.name, now + f.historyMs!] as const));
      const customers = await tallyCustomers(redis, opts.prefix, compiled.rules, warming, (n) => bar.update(n));
      bar.done();
      const perSecond = Number(opts.sweepRate);
      const instances = Math.max(1, Number(opts.instances));
      const report: DiffReport = {
        valid: true,
        from: { seq: from.seq, version: from.rules.version },
        to: { version: compiled.rules.version },
        rules: comparison,
        customers,
        warmingUp: comparison.features.map((f) => ({ feature: f.name, history: f.history, fullFrom: f.historyMs === null ? null : new Date(now + f.historyMs).toISOString() })),
        sweep: { perSecond, instances, estimatedMs: sweepDurationMs(customers.customers, perSecond * instances) },
      };
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatDiff(report));
      if (opts.maxChanged !== undefined && customers.changed > Number(opts.maxChanged)) process.exitCode = EXIT.tooManyChanges;
    } finally {
      redis.disconnect();
    }
  });
}
