import { loadRules, type CompiledRules } from '@labelstream/rules';
import { RateBudget } from '@labelstream/engine';
import type { RulesChannel } from '@labelstream/redis-state';
import type { Logger, Metrics } from '@labelstream/observability';

/** Options of {@link createRollout}. */
export interface RolloutOptions {
  /** The published versions; absent: the rules file decides for ever (no live changes). */
  channel?: RulesChannel;
  /** The rules file the evaluator started with: sequence 0, in force until a deploy. */
  fileRules: CompiledRules;
  /** How often the channel is read (ms). */
  pollMs: number;
  /** Customers re-evaluated per second by this instance's sweeps, all partitions together. */
  sweepPerSecond: number;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}

/**
 * An evaluator instance's view of the rules channel: the newest published sequence (read
 * at most every `pollMs`), the compiled rules of each sequence (compiled once, kept), and
 * the rate budget its sweeps share. Which sequence decides for a partition is not decided
 * here but in Redis, per partition (see the evaluator's `switchRules`).
 */
export function createRollout(opts: RolloutOptions) {
  const compiled = new Map<number, CompiledRules>([[0, opts.fileRules]]);
  const budget = new RateBudget(opts.sweepPerSecond, Math.max(1, opts.sweepPerSecond));
  let desired: { seq: number; version: string } | null = null;
  let lastPoll = Number.NEGATIVE_INFINITY;
  let polling: Promise<void> | undefined;

  async function poll(): Promise<void> {
    const cur = await opts.channel!.current();
    desired = cur ? { seq: cur.seq, version: cur.version } : null;
    opts.metrics.rulesPublishedSeq.set(desired?.seq ?? 0);
  }

  return {
    /** The newest published sequence (null: none), refreshed when `pollMs` has passed. */
    async desiredSeq(): Promise<number | null> {
      if (!opts.channel) return null;
      const t = opts.now();
      if (t - lastPoll >= opts.pollMs) {
        lastPoll = t;
        polling ??= poll().finally(() => (polling = undefined));
        await polling;
      }
      return desired?.seq ?? null;
    },

    /**
     * The compiled rules of `seq`. Deploy validated the text before publishing it; should it
     * fail here anyway (an evaluator of another release with a stricter compiler), the
     * partition keeps its rules and this throws, so the switch is retried and visible.
     */
    async rules(seq: number): Promise<CompiledRules> {
      const hit = compiled.get(seq);
      if (hit) return hit;
      const text = opts.channel ? await opts.channel.text(seq) : null;
      if (text === null) throw new Error(`rules sequence ${seq} has no text in the rules channel`);
      const rules = loadRules(text, { source: `rules channel #${seq}` });
      compiled.set(seq, rules);
      opts.logger.info({ seq, rulesVersion: rules.version }, 'rules version compiled');
      return rules;
    },

    /** How many customers a sweep may re-evaluate now (taken from the shared budget). */
    sweepAllowance(want: number): number {
      return budget.take(opts.now(), want);
    },

    /** For `/readyz`: the newest published version this instance knows of. */
    published: () => desired,
  };
}

export type Rollout = ReturnType<typeof createRollout>;
