/**
 * Label evaluation at the customer's clock: feature values, enter/exit with dwell,
 * exclusive groups, the label diff, and the next time anything can change.
 */
import type { LabelChange } from '@labelstream/contracts';
import type { CompiledLabel, CompiledRules, FeatureValue } from '@labelstream/rules';
import { featureValue, nextChange, planFor, prune } from './store';
import { idsOf, setIds } from './ids';
import type { CustomerState } from './state';

/** A condition or filter that failed to evaluate (it then counts as not holding / not matching). */
export interface EvalError {
  readonly kind: 'enter' | 'exit' | 'filter';
  /** The label (enter/exit) or feature storage key (filter). */
  readonly name: string;
  readonly message: string;
  readonly eventId?: string;
}

/** Per-label decision at one evaluation, before the diff. */
export interface LabelDecision {
  readonly label: CompiledLabel;
  readonly held: boolean;
  readonly since: number | null;
  readonly enter: { holds: boolean; error?: string };
  readonly exit: { holds: boolean; error?: string };
  /** Held and exit holds, but minDwell has not passed: kept until `dwellUntil`. */
  readonly dwellUntil: number | null;
  /** Holds after enter/exit/dwell, before exclusive groups. */
  readonly wants: boolean;
  /** Holds after exclusive groups. */
  readonly keeps: boolean;
  /** Why it changed or is suppressed: `enter`, `exit` or `group:<name>`. */
  readonly reason: string | null;
  /** The higher-priority label of its exclusive group that suppresses it, if any. */
  readonly suppressedBy: string | null;
  /** `whileWarming: hold` and a feature it reads is warming up: kept as it is until this time. */
  readonly warmingUntil: number | null;
  readonly features: Record<string, FeatureValue>;
}

export interface Evaluation {
  readonly at: number;
  readonly features: Record<string, FeatureValue>;
  readonly decisions: readonly LabelDecision[];
  readonly changes: LabelChange[];
  /** Labels held after the evaluation, in rules order. */
  readonly labels: string[];
  readonly nextDueAt: number | null;
  readonly errors: EvalError[];
}

/** Computes all feature values of `state` at time `at`. */
export function computeFeatures(state: CustomerState, rules: CompiledRules, at: number): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const f of rules.features) out[f.name] = featureValue(f, state.f[f.storageKey], at);
  return out;
}

type Mutable = { -readonly [K in keyof LabelDecision]: LabelDecision[K] };

/** Shared outcomes of a condition that evaluated without error (never mutated). */
const HOLDS: { holds: boolean; error?: string } = Object.freeze({ holds: true });
const FAILS: { holds: boolean; error?: string } = Object.freeze({ holds: false });
const outcome = (holds: boolean): { holds: boolean; error?: string } => (holds ? HOLDS : FAILS);

/**
 * One label's decision. `features` (the values the label reads) is built when asked for:
 * only changes and explanations read it, and building it for every label at every event
 * was a large share of the evaluator's allocations.
 */
class Decision implements Mutable {
  keeps: boolean;
  suppressedBy: string | null = null;
  warmingUntil: number | null = null;
  constructor(
    public label: CompiledLabel,
    public held: boolean,
    public since: number | null,
    public enter: { holds: boolean; error?: string },
    public exit: { holds: boolean; error?: string },
    public dwellUntil: number | null,
    public wants: boolean,
    public reason: string | null,
    private readonly all: Record<string, FeatureValue>,
  ) {
    this.keeps = wants;
  }

  get features(): Record<string, FeatureValue> {
    const read: Record<string, FeatureValue> = {};
    for (const f of this.label.referencedFeatures) read[f] = this.all[f] ?? null;
    return read;
  }
}

/**
 * Evaluates every label at `at` (= the state's clock) without touching `state`.
 * Order of `changes`: removals of labels the rules no longer define (`rules-changed`),
 * then other removals, then assignments — each in rules order — so a consumer applying
 * them in order never sees two labels of an exclusive group at once.
 */
export function evaluateLabels(state: CustomerState, rules: CompiledRules, at: number, warming?: ReadonlyMap<string, number>): Evaluation {
  const plan = planFor(rules);
  const features = computeFeatures(state, rules, at);
  const errors: EvalError[] = [];
  const decisions: Decision[] = new Array<Decision>(rules.labels.length);
  for (let i = 0; i < rules.labels.length; i++) {
    const label = rules.labels[i] as CompiledLabel;
    const since = state.l[label.name] ?? null;
    const held = since !== null;
    const enterOut = label.conditions.enter.evaluate(features);
    if (enterOut.error !== undefined) errors.push({ kind: 'enter', name: label.name, message: enterOut.error });
    let exit: { holds: boolean; error?: string };
    if (label.conditions.exit) {
      const out = label.conditions.exit.evaluate(features);
      if (out.error !== undefined) errors.push({ kind: 'exit', name: label.name, message: out.error });
      exit = out.error !== undefined ? { holds: false, error: out.error } : outcome(out.holds);
    } else {
      exit = outcome(!enterOut.holds);
    }
    const enter = enterOut.error !== undefined ? { holds: false, error: enterOut.error } : outcome(enterOut.holds);
    let wants: boolean;
    let dwellUntil: number | null = null;
    let reason: string | null = null;
    if (!held) {
      wants = enter.holds;
      if (wants) reason = 'enter';
    } else if (exit.holds) {
      const until = since + label.minDwellMs;
      if (at >= until) {
        wants = false;
        reason = 'exit';
      } else {
        wants = true;
        dwellUntil = until;
      }
    } else {
      wants = true;
    }
    const d = new Decision(label, held, since, enter, exit, dwellUntil, wants, reason, features);
    if (warming !== undefined && label.whileWarming === 'hold') {
      const until = warmingUntil(label, warming, at);
      if (until !== null) {
        // Held for the warm-up: neither assigned nor removed on partial history.
        d.wants = d.keeps = held;
        d.reason = null;
        d.dwellUntil = null;
        d.warmingUntil = until;
      }
    }
    decisions[i] = d;
  }

  for (const members of plan.exclusiveGroups) {
    let winner: string | null = null;
    for (const m of members) {
      const d = decisions[m.index] as Decision;
      if (!d.wants) continue;
      if (winner === null) winner = d.label.name;
      else {
        d.keeps = false;
        d.suppressedBy = winner;
        d.reason = m.reason;
      }
    }
  }

  const changes: LabelChange[] = [];
  let undefinedHeld: string[] | undefined;
  for (const name in state.l) if (!plan.labelIndex.has(name)) (undefinedHeld ??= []).push(name);
  if (undefinedHeld) {
    for (const name of undefinedHeld.sort()) changes.push({ label: name, category: 'custom', change: 'REMOVED', reason: 'rules-changed', features: {} });
  }
  const labels: string[] = [];
  for (const d of decisions) {
    if (d.keeps) labels.push(d.label.name);
    if (d.held && !d.keeps) {
      changes.push({ label: d.label.name, category: d.label.category, change: 'REMOVED', reason: d.reason ?? 'exit', features: d.features });
    }
  }
  for (const d of decisions) {
    if (!d.held && d.keeps) {
      changes.push({ label: d.label.name, category: d.label.category, change: 'ASSIGNED', reason: 'enter', features: d.features });
    }
  }

  return {
    at,
    features,
    decisions,
    changes,
    labels,
    nextDueAt: nextDue(state, rules, at, decisions),
    errors,
  };
}

/**
 * Earliest time > at when a feature some label reads changes without a new event, or when
 * the dwell of a label that is only kept by its dwell ends. Computed on the state before
 * the evaluation's own label changes are applied; labels assigned now have no pending dwell
 * (their exit cannot hold while enter does, unless enter/exit overlap — then the dwell
 * start is `at` and is included below).
 */
function nextDue(state: CustomerState, rules: CompiledRules, at: number, decisions: readonly LabelDecision[]): number | null {
  const plan = planFor(rules);
  let due: number | null = null;
  const consider = (t: number | null): void => {
    if (t !== null && t > at && (due === null || t < due)) due = t;
  };
  for (const f of plan.referencedWindowed) consider(nextChange(f, state.f[f.storageKey], at));
  for (const d of decisions) {
    consider(d.warmingUntil); // decided when its features are full
    if (!d.keeps || d.label.minDwellMs === 0) continue;
    if (d.dwellUntil !== null) consider(d.dwellUntil);
    else if (!d.held && d.exit.holds) consider(at + d.label.minDwellMs);
  }
  return due;
}

/** The latest time a feature `label` reads is still warming up after `at`, or null when none is. */
function warmingUntil(label: CompiledLabel, warming: ReadonlyMap<string, number>, at: number): number | null {
  let until: number | null = null;
  for (const f of label.referencedFeatures) {
    const u = warming.get(f);
    if (u !== undefined && u > at && (until === null || u > until)) until = u;
  }
  return until;
}

/**
 * Applies an evaluation's outcome to `state` (mutates): labels, then pruning at the clock.
 * Builds a new label or feature record only when something in it changed.
 */
export function commitEvaluation(state: CustomerState, rules: CompiledRules, ev: Evaluation): void {
  if (ev.changes.length > 0) {
    const labels: Record<string, number> = {};
    for (const d of ev.decisions) {
      if (d.keeps) labels[d.label.name] = d.held && d.since !== null ? d.since : ev.at;
    }
    state.l = labels;
  }
  const plan = planFor(rules);
  let data: CustomerState['f'] | undefined;
  for (let i = 0; i < plan.stores.length; i++) {
    const store = plan.stores[i] as (typeof plan.stores)[number];
    const current = state.f[store.key];
    if (!current) continue;
    const kept = prune(store, current, ev.at);
    if (kept === current && data === undefined) continue;
    if (data === undefined) {
      // First change: copy what came before it.
      data = {};
      for (let j = 0; j < i; j++) {
        const k = (plan.stores[j] as (typeof plan.stores)[number]).key;
        const v = state.f[k];
        if (v) data[k] = v;
      }
    }
    if (kept) data[store.key] = kept;
  }
  if (data !== undefined) state.f = data;
  setIds(state, idsOf(state).prune(ev.at - rules.allowedLatenessMs));
}
