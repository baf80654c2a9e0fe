/**
 * Changing the rules of a running evaluator (README "Changing rules"): the pure decisions
 * behind a rollout — whether a partition switches to a newly published rules version, how
 * a customer is re-evaluated under the new rules by the sweep, how fast the sweep may go,
 * and what a dry run (`labelstream rules diff`) counts. No I/O, no wall clock.
 */
import { compareRules, type CompiledRules } from '@labelstream/rules';
import { mergeBackfill, type BackfillFold } from './backfill';
import { evaluateAt, type StepOptions, type StepResult } from './engine';
import type { CustomerState } from './state';

/**
 * What a partition does when it learns the published version `desired` (a sequence number
 * that grows by one per deploy or rollback; null when nothing was ever published) while
 * `inForce` decides for it. Only ever forward: a rollback is published as a new sequence
 * number carrying the older text, so "going back" is a switch like any other, and a
 * partition never returns to a sequence it left (a stale reader cannot undo a switch).
 */
export function switchTarget(inForce: number, desired: number | null): number | null {
  return desired !== null && desired > inForce ? desired : null;
}

/**
 * The sweep's re-evaluation of one stored customer under `rules`, at the customer's own
 * clock; null when the customer was already evaluated under this version (by live traffic
 * after the switch, or by an earlier pass of a sweep that crashed before saving its cursor:
 * so a resumed sweep is idempotent). Evaluating at the customer's clock, not the wall
 * clock, leaves time-based changes to the timers, which fire at their exact due times: the
 * sweep shows only what the rules change. Its result always names the new version, so it
 * is always committed. Mutates `state` when `opts.inPlace`; `opts.warming` as for any step.
 */
export function reevaluate(state: CustomerState, rules: CompiledRules, opts: StepOptions = {}): StepResult | null {
  if (state.r === rules.version) return null;
  return evaluateAt(state, state.c, rules, opts);
}

/**
 * A token bucket in customers per second: the sweep takes what it may each round, so live
 * traffic keeps the Redis and CPU it needs. `burst` caps what an idle period saves up.
 */
export class RateBudget {
  private tokens: number;
  private last: number | null = null;

  constructor(private readonly perSecond: number, private readonly burst: number = Math.max(1, perSecond)) {
    if (!(perSecond > 0)) throw new RangeError(`rate must be positive, got ${perSecond}`);
    this.tokens = 0;
  }

  /** How many of `want` may go now (whole customers), taken from the bucket. */
  take(now: number, want: number): number {
    if (this.last === null) this.tokens = this.burst;
    else if (now > this.last) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    const n = Math.max(0, Math.min(want, Math.floor(this.tokens)));
    this.tokens -= n;
    return n;
  }
}

/** How long a sweep of `customers` takes at `perSecond`, in ms (a lower bound: live traffic shares Redis). */
export function sweepDurationMs(customers: number, perSecond: number): number {
  return Math.ceil((customers / perSecond) * 1000);
}

/** One label's part of a dry run. */
export interface LabelDiff {
  enter: number;
  leave: number;
  /** The first few customers that would enter / leave (in scan order). */
  enterExamples: string[];
  leaveExamples: string[];
}

/** What a dry run found over all the customers it saw. */
export interface DiffSummary {
  customers: number;
  /** Customers whose label set would change. */
  changed: number;
  /** Customers whose state could not be read (corrupt or of an unknown layout). */
  unreadable: number;
  labels: Record<string, LabelDiff>;
}

/**
 * Accumulates a dry run in bounded memory: counts per label and at most `examples` ids per
 * label and direction, whatever the number of customers.
 */
export class DiffTally {
  private readonly summary: DiffSummary = { customers: 0, changed: 0, unreadable: 0, labels: {} };

  constructor(private readonly examples = 5) {}

  /** Records one customer: the labels it holds now and would hold under the new rules. */
  add(customerId: string, before: readonly string[], after: readonly string[]): void {
    this.summary.customers++;
    const b = new Set(before);
    const a = new Set(after);
    let changed = false;
    for (const [from, to, dir] of [[a, b, 'enter'], [b, a, 'leave']] as const) {
      for (const l of from) {
        if (to.has(l)) continue;
        changed = true;
        const d = this.label(l);
        d[dir]++;
        const examples = dir === 'enter' ? d.enterExamples : d.leaveExamples;
        if (examples.length < this.examples) examples.push(customerId);
      }
    }
    if (changed) this.summary.changed++;
  }

  unreadable(): void {
    this.summary.customers++;
    this.summary.unreadable++;
  }

  result(): DiffSummary {
    const labels = Object.fromEntries(Object.entries(this.summary.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    return { ...this.summary, labels };
  }

  private label(name: string): LabelDiff {
    return (this.summary.labels[name] ??= { enter: 0, leave: 0, enterExamples: [], leaveExamples: [] });
  }
}

/** The labels `state` holds now and would hold if evaluated under `rules` at its clock (the state is not changed). */
export function labelsUnder(state: CustomerState, rules: CompiledRules, warming?: ReadonlyMap<string, number>): { before: string[]; after: string[] } {
  return { before: Object.keys(state.l), after: evaluateAt(state, state.c, rules, warming ? { warming } : undefined).labels };
}

/**
 * As {@link labelsUnder}, once the switch's backfill has put `fold` (the customer's events
 * in the retained history; undefined: none) in the new storage `keys`: what the sweep after
 * the switch decides on. The dry run's view of a backfill. Changes `state` (pass a decoded
 * copy, never one to be written back).
 */
export function labelsUnderBackfill(state: CustomerState, fold: BackfillFold | undefined, rules: CompiledRules, keys: ReadonlySet<string>, warming?: ReadonlyMap<string, number>): { before: string[]; after: string[] } {
  mergeBackfill(state, fold, rules, keys);
  return labelsUnder(state, rules, warming);
}

/** The warm-up map a step takes ({@link StepOptions.warming}): windowed features only (a lifetime one is never whole, so never held for). */
export function warmingMap(warming: readonly WarmingFeature[]): ReadonlyMap<string, number> {
  const m = new Map<string, number>();
  for (const w of warming) if (w.until !== null) m.set(w.feature, w.until);
  return m;
}

/** A feature that started empty at a rules switch (added, or redefined: a new storage key). */
export interface WarmingFeature {
  readonly feature: string;
  readonly storageKey: string;
  /** When its window is covered (switch time + window); null for a lifetime feature (never whole). */
  readonly until: number | null;
}

/**
 * The features still warming up once a partition switches from `previous` to `next` at
 * `switchedAt`: those the switch starts empty, plus those of earlier switches (`carried`)
 * that `next` still reads under the same storage key and whose window is not covered yet.
 *
 * `historySince` says how far back the backfill of the new keys reached (see
 * backfill.ts): the time of the earliest retained event, or `-Infinity` when the history
 * is complete (nothing was ever deleted from the partition). A feature whose window it
 * covers — one window before the switch, or before `need.oldestClock`, the partition's
 * oldest customer clock, when that is earlier (the sweep evaluates each customer at its
 * clock), less `need.futureSkewMs` (records are found by their time; see `backfillSince`)
 * — is whole at once and not listed; one it does not cover warms until `historySince +
 * window` (a lifetime one: for ever). Undefined: no backfill, every new feature warms
 * until `switchedAt + window`.
 */
export function warmingAfterSwitch(
  previous: CompiledRules,
  next: CompiledRules,
  switchedAt: number,
  carried: readonly WarmingFeature[] = [],
  historySince?: number,
  need: { oldestClock?: number; futureSkewMs?: number } = {},
): WarmingFeature[] {
  const keyOf = new Map(next.features.map((f) => [f.name, f.storageKey] as const));
  const from = historySince === undefined ? switchedAt : Math.min(historySince, switchedAt);
  const needFrom = (need.oldestClock === undefined ? switchedAt : Math.min(switchedAt, need.oldestClock)) - (need.futureSkewMs ?? 0);
  const changed = compareRules(previous, next).features;
  const started = changed
    .filter((f) => !(from === Number.NEGATIVE_INFINITY || (f.historyMs !== null && from <= needFrom - f.historyMs)))
    .map((f) => ({ feature: f.name, storageKey: keyOf.get(f.name) ?? '', until: f.historyMs === null ? null : from + f.historyMs }));
  const fresh = new Set(changed.map((f) => f.name));
  const still = carried.filter((w) => !fresh.has(w.feature) && keyOf.get(w.feature) === w.storageKey && (w.until === null || w.until > switchedAt));
  return [...still, ...started];
}
