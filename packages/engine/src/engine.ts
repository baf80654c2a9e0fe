import type { LabelChange } from '@labelstream/contracts';
import type { CompiledRules, FeatureValue } from '@labelstream/rules';
import { eventView, type EngineEvent } from './event';
import { commitEvaluation, evaluateLabels, type EvalError } from './evaluate';
import { idsOf, setIds } from './ids';
import { cloneState, emptyState, type CustomerState } from './state';
import { applyEvent, planFor } from './store';

/** What happened to one input event. */
export type EventOutcome = 'applied' | 'duplicate' | 'late';

/** Result of one engine step: the new state to store and the decision to publish. */
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
}

/**
 * Applies events to a customer's state, then evaluates the labels once at the customer's
 * clock. Each event, in input order, is `late` if it is older than clock − allowedLateness
 * (the clock as advanced by the events before it), `duplicate` if its id was applied
 * before, else `applied`: added to its buckets, with the clock advanced to its time.
 * Deterministic: the result depends only on the inputs.
 */
export function applyEvents(state: CustomerState | null, events: readonly EngineEvent[], rules: CompiledRules, opts?: StepOptions): StepResult {
  const s = state ? (opts?.inPlace ? state : cloneState(state)) : emptyState();
  const plan = planFor(rules);
  const outcomes: Array<{ eventId: string; outcome: EventOutcome }> = [];
  const errors: EvalError[] = [];
  let ids = idsOf(s);
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
  }
  setIds(s, ids);
  return finish(s, rules, outcomes, errors, opts?.warming);
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
