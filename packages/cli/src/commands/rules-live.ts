/**
 * `labelstream rules deploy | rollback | status | diff`: changing the rules of the running
 * evaluators through the rules channel in Redis (README "Changing rules"); `diff` is in
 * rules-diff.ts. Exit codes, for deploy pipelines:
 *
 *   0  done (deploy published, diff computed, status printed)
 *   1  could not run (Redis unreachable, file unreadable; diff: the input history unreadable)
 *   2  the rules file is invalid (nothing changed), or its version is not new
 *   3  refused: another deploy published first (nothing changed; deploy again after a review)
 *   4  diff: more customers would change than --max-changed allows
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatIssues, lintRules, parseRules, type CompiledRules } from '@labelstream/rules';
import { createRedisClient, mastersOf, RulesChannel, RulesConflictError, readPartitionRules, PartitionKeys, type PublishedRules, type RedisClient } from '@labelstream/redis-state';
import { REDIS_ENV, withEnvironment, type EnvVar } from './environment';

export const EXIT = { ok: 0, failed: 1, invalid: 2, conflict: 3, tooManyChanges: 4 } as const;

export interface RedisOpts {
  redis: string;
  prefix: string;
}

export function connect(o: RedisOpts): RedisClient {
  return createRedisClient(o.redis, { redis: { maxRetriesPerRequest: 2, retryStrategy: (n) => (n > 3 ? null : 200) } });
}

/** Adds `--redis` and `--prefix`, and the environment section naming them and `more`. */
export function withRedis(cmd: Command, more: readonly EnvVar[] = []): Command {
  return withEnvironment(
    cmd
      .option('--redis <url>', 'the evaluators\' Redis (REDIS_URL)', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
      .option('--prefix <prefix>', 'the evaluators\' key prefix (REDIS_KEY_PREFIX)', process.env.REDIS_KEY_PREFIX ?? 'lbl'),
    [...REDIS_ENV, ...more],
  );
}

/** Reads and compiles a rules file; prints the reasons and returns null when it is invalid. */
export function compileFile(file: string): { text: string; rules: CompiledRules } | null {
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
export async function rulesInForce(channel: RulesChannel, fallbackFile: string): Promise<{ seq: number; rules: CompiledRules } | null> {
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

/** The partitions that have state: those whose owner fenced them (a `{p<n>}:epoch` key), in order. */
export async function partitionsWithState(redis: RedisClient, prefix: string): Promise<number[]> {
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
  return [...found].sort((a, b) => a - b);
}

async function rolloutStatus(redis: RedisClient, prefix: string, channel: RulesChannel): Promise<RolloutStatus> {
  const published = await channel.current();
  const partitions = [];
  for (const p of await partitionsWithState(redis, prefix)) {
    const r = await readPartitionRules(redis, new PartitionKeys(prefix, p));
    partitions.push({ partition: p, seq: r.seq, version: r.version || '(rules file)', sweeping: r.cursor !== null, swept: r.swept });
  }
  const target = published?.seq ?? 0;
  return { published, partitions, done: partitions.filter((p) => p.seq === target && !p.sweeping).length };
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
}
