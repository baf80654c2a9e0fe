import type { LabelChange } from '@labelstream/contracts';
import type { CompiledRules, FeatureValue } from '@labelstream/rules';
import { eventView, type EngineEvent } from './event';
import { commitEvaluation, computeFeatures, evaluateLabels, type EvalError } from './evaluate';
import { idsOf, setIds } from './ids';
import { cloneState, emptyState, type CustomerState } from './state';
import { applyEvent, planFor } from './store';

/** What happened to one input event. */
export type EventOutcome = 'applied' | 'duplicate' | 'late';

/**
 * Result of one engine step: the new state to store and the decision to publish. A step
 * that applied no event (every event duplicate or late) evaluated nothing: see
 * {@link applyEvents} for what its fields hold then.
 */
export interface StepResult {
  /** New state (the input state is never mutated). */
  readonly state: CustomerState;
  /** One entry per input event, in input order. */
  readonly outcomes: ReadonlyArray<{ readonly eventId: string; readonly outcome: EventOutcome }>;
  /** Label changes, in the order they should be published (removals first). */
  readonly changes: LabelChange[];
  /** Labels held after the step, in rules order. */
  readonly labels: string[];
  /** Every feature's value at `effectiveAt`. */
  readonly features: Record<string, FeatureValue>;
  /** Event time of the evaluation: the customer's clock after the step. */
  readonly effectiveAt: number;
  /** When to evaluate again if no event arrives (exact; null = never). */
  readonly nextDueAt: number | null;
  /** Conditions and filters that failed to evaluate (they counted as false). */
  readonly errors: EvalError[];
}

/** How a step treats its input state. */
export interface StepOptions {
  /**
   * The caller hands the state over: the step changes it and returns it as `result.state`
   * instead of copying it first. For a replay that only keeps the newest state (one copy
   * per customer and batch instead of one per event); by default the input is never
   * mutated.
   */
  readonly inPlace?: boolean;
  /**
   * Windowed features a rules change started empty, by name, with the time their window is
   * covered: labels with `whileWarming: hold` that read one keep their state until then.
   */
  readonly warming?: ReadonlyMap<string, number>;
  /**
   * The due time pending with the input state (the `nextDueAt` of the step that produced
   * it), when the caller keeps it: what {@link applyEvents} returns as `nextDueAt` when it
   * applies no event. Not given: found by evaluating the state at its clock (the cost of a
   * step) without keeping anything of that evaluation.
   */
  readonly dueAt?: number | null;
}

/**
 * Applies events to a customer's state, then evaluates the labels once at the customer's
 * clock. Each event, in input order, is `late` if it is older than clock − allowedLateness
 * (the clock as advanced by the events before it), `duplicate` if its id was applied
 * before, else `applied`: added to its buckets, with the clock advanced to its time.
 * Deterministic: the result depends only on the inputs.
 *
 * A duplicate or late event decides nothing: when no event of the call is applied there is
 * no evaluation — no change, and the state is left as it was, its rules version (`r`)
 * included. Without a rules change that evaluation could never change anything (the
 * state and clock are those of the last evaluation, and nothing is due by then: a due time
 * is after the clock it was computed at). With one, it would decide the new rules' changes
 * for a re-delivered event that was applied under the old rules, with that event as its
 * cause, and take the customer from the re-evaluation sweep, which decides them (cause
 * RULES_CHANGED; README "Changing rules"). Such a step's result holds the state's labels
 * (in rules order, then any the rules do not define), the features at its clock, and
 * `nextDueAt` = `opts.dueAt` (the pending due time).
 */
export function applyEvents(state: CustomerState | null, events: readonly EngineEvent[], rules: CompiledRules, opts?: StepOptions): StepResult {
  const s = state ? (opts?.inPlace ? state : cloneState(state)) : emptyState();
  const plan = planFor(rules);
  const outcomes: Array<{ eventId: string; outcome: EventOutcome }> = [];
  const errors: EvalError[] = [];
  let ids = idsOf(s);
  let applied = false;
  for (const e of events) {
    if (e.occurredAt < s.c - rules.allowedLatenessMs) {
      outcomes.push({ eventId: e.eventId, outcome: 'late' });
      continue;
    }
    if (ids.has(e.eventId)) {
      outcomes.push({ eventId: e.eventId, outcome: 'duplicate' });
      continue;
    }
    s.c = Math.max(s.c, e.occurredAt);
    ids = ids.add(e.eventId, e.occurredAt);
    const view = eventView(e);
    for (const store of plan.stores) {
      const r = applyEvent(store, s.f[store.key], view, s.c);
      if (r.data) s.f[store.key] = r.data;
      if (r.outcome.filterError !== undefined) errors.push({ kind: 'filter', name: store.key, message: r.outcome.filterError, eventId: e.eventId });
    }
    outcomes.push({ eventId: e.eventId, outcome: 'applied' });
    applied = true;
  }
  if (!applied) return unevaluated(s, rules, outcomes, opts);
  setIds(s, ids);
  return finish(s, rules, outcomes, errors, opts?.warming);
}

/** The result of a step that applied no event: nothing decided, the state as it was (see {@link applyEvents}). */
function unevaluated(s: CustomerState, rules: CompiledRules, outcomes: Array<{ eventId: string; outcome: EventOutcome }>, opts?: StepOptions): StepResult {
  const labels: string[] = [];
  for (const l of rules.labels) if (s.l[l.name] !== undefined) labels.push(l.name);
  if (labels.length < Object.keys(s.l).length) labels.push(...Object.keys(s.l).filter((n) => !labels.includes(n)).sort());
  const nextDueAt = opts?.dueAt !== undefined ? opts.dueAt : evaluateLabels(s, rules, s.c, opts?.warming).nextDueAt;
  return { state: s, outcomes, changes: [], labels, features: computeFeatures(s, rules, s.c), effectiveAt: s.c, nextDueAt, errors: [] };
}

/**
 * Timer path: evaluates as of `at` with no new event. The clock becomes max(clock, at) —
 * a timer that fires after newer events moved the clock past it evaluates at the clock.
 */
export function evaluateAt(state: CustomerState | null, at: number, rules: CompiledRules, opts?: StepOptions): StepResult {
  const s = state ? (opts?.inPlace ? state : cloneState(state)) : emptyState();
  s.c = Math.max(s.c, at);
  return finish(s, rules, [], [], opts?.warming);
}

function finish(
  s: CustomerState,
  rules: CompiledRules,
  outcomes: Array<{ eventId: string; outcome: EventOutcome }>,
  errors: EvalError[],
  warming?: ReadonlyMap<string, number>,
): StepResult {
  const ev = evaluateLabels(s, rules, s.c, warming);
  commitEvaluation(s, rules, ev);
  s.r = rules.version;
  return {
    state: s,
    outcomes,
    changes: ev.changes,
    labels: ev.labels,
    features: ev.features,
    effectiveAt: ev.at,
    nextDueAt: ev.nextDueAt,
    errors: errors.length === 0 ? ev.errors : ev.errors.length === 0 ? errors : [...errors, ...ev.errors],
  };
}
