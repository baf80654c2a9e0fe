import type { LabelChange } from '@labelstream/contracts';
import type { CompiledRules } from '@labelstream/rules';
import { applyEvents, encodeState, evaluateAt, type CustomerState, type EngineEvent, type StepOptions, type StepResult } from '@labelstream/engine';
import type { PendingDecision } from './decisions';

/** One evaluation of a customer: after an arriving event, or at a due time with no event. */
export interface CustomerStep {
  readonly result: StepResult;
  readonly cause: PendingDecision['cause'];
}

/**
 * Replays one customer's events of a batch exactly as if they had arrived one by one with
 * the timers firing on time in between: each event is applied and evaluated on its own,
 * and every due time at or before an event's time is evaluated first (a due time is when
 * a window bucket expires or a dwell ends, so it comes before a later event in event
 * time). A duplicate or late event decides nothing (the engine's `applyEvents`): its step
 * has no change, leaves the state and keeps the pending due time.
 *
 * Why not one `applyEvents` per customer per batch: the label changes would then depend on
 * where batch boundaries fall — a first order and a second one in the same batch would
 * never show "first_time_buyer", and a backlog after a restart would swallow the
 * time-based changes due between its events. Batch boundaries move with crashes,
 * restarts and lag, so the published changes would too (DESIGN §3.1). With this, the
 * changes are a function of the customer's event sequence alone.
 *
 * A stored state not evaluated under `rules` yet (a rules switch since) is first
 * re-evaluated at its clock, as the sweep would (a RULES_CHANGED step).
 *
 * `state` is the stored state (null for a new customer), `storedDueAt` the due time stored
 * with it (its timer); when not given it is recomputed, which costs a full evaluation (a
 * third of a customer's per-event cost). Yields one step per event (an evaluated one, or
 * for a duplicate or late event one that evaluated nothing), each after the timer steps
 * due before it, in order, lazily (a long batch need not hold every intermediate state);
 * pure.
 */
export function* replaySteps(
  state: CustomerState | null,
  events: readonly EngineEvent[],
  rules: CompiledRules,
  storedDueAt?: number | null,
  opts: ReplayOptions = {},
): Generator<CustomerStep> {
  let current = state;
  // In place: the caller hands the state over; every step changes that one object (see
  // ReplayOptions). `dueAt` is the pending due time, which a step that applies no event
  // keeps: one options object per replay, updated before each event.
  const step: { -readonly [K in keyof StepOptions]: StepOptions[K] } = {};
  if (opts.inPlace) step.inPlace = true;
  if (opts.warming) step.warming = opts.warming;
  let due: number | null;
  if (current && current.r !== rules.version) {
    // Not evaluated under the rules in force yet (a rules switch since its last step): the
    // sweep's re-evaluation at its own clock comes first, whoever reaches the customer first
    // — the sweep, this event or this timer — so a change the new rules make is always
    // RULES_CHANGED, at the customer's switch point, and the due times that follow are the
    // new rules' (the stored one was the old rules').
    const result = evaluateAt(current, current.c, rules, step);
    yield { result, cause: { kind: 'RULES_CHANGED', eventId: null, eventType: null, eventOccurredAt: opts.switchedAt ?? current.c } };
    current = result.state;
    due = result.nextDueAt;
  } else {
    // The stored state's pending due time (evaluating at its clock would give it again).
    due = storedDueAt !== undefined ? storedDueAt : current ? evaluateAt(current, current.c, rules, opts.warming ? { warming: opts.warming } : undefined).nextDueAt : null;
  }
  step.dueAt = due;
  for (const e of events) {
    while (due !== null && due <= e.occurredAt) {
      const result = evaluateAt(current, due, rules, step);
      yield { result, cause: { kind: 'TIMER', eventId: null, eventType: null, eventOccurredAt: due } };
      current = result.state;
      due = result.nextDueAt;
    }
    step.dueAt = due;
    const result = applyEvents(current, [e], rules, step);
    yield { result, cause: { kind: 'EVENT', eventId: e.eventId, eventType: e.eventType, eventOccurredAt: e.occurredAt } };
    current = result.state;
    due = result.nextDueAt;
  }
}

/** Options of {@link replaySteps}. */
export interface ReplayOptions {
  /**
   * The caller hands `state` over and reads only the newest step's state (as
   * {@link outcomeOf} does): every step changes `state` itself instead of a copy per event,
   * so every step's `result.state` is that one object, in its newest form. If the replay
   * throws, `state` may be half-changed: the caller must drop it.
   */
  readonly inPlace?: boolean;
  /** When the rules in force were switched to (the `eventOccurredAt` of a RULES_CHANGED step); default the customer's clock. */
  readonly switchedAt?: number;
  /** Features warming up after a rules change (see the engine's `StepOptions.warming`). */
  readonly warming?: ReadonlyMap<string, number>;
}

/** {@link replaySteps}, all at once. */
export function replayCustomer(state: CustomerState | null, events: readonly EngineEvent[], rules: CompiledRules, storedDueAt?: number | null): CustomerStep[] {
  return [...replaySteps(state, events, rules, storedDueAt)];
}

/** Whether the steps changed anything worth storing: an event applied, a timer evaluated, or a label changed. */
export function changesState(steps: Iterable<CustomerStep>): boolean {
  for (const s of steps) if (changed(s)) return true;
  return false;
}

function changed(s: CustomerStep): boolean {
  return s.cause.kind === 'TIMER' || s.cause.kind === 'RULES_CHANGED' || s.result.changes.length > 0 || s.result.outcomes.some((o) => o.outcome === 'applied');
}

/** A step that changed labels: what it decided, and why. */
export interface StepDecision {
  readonly changes: LabelChange[];
  readonly labels: string[];
  readonly effectiveAt: number;
  readonly cause: CustomerStep['cause'];
}

/**
 * What a customer's steps of a batch come to: the final state (encoded) and next due time,
 * and every decision on the way, in order. They are committed together, atomically, so
 * the intermediate states need not be stored (nor encoded): a crash either keeps them all
 * or replays the same steps from the stored state.
 */
export interface CustomerOutcome {
  readonly state: string;
  /** The final state, decoded (what `state` encodes). */
  readonly final: CustomerState;
  readonly nextDueAt: number | null;
  readonly decisions: StepDecision[];
  /** {@link changesState} of the steps: false means there is nothing to store. */
  readonly changed: boolean;
  /** The event ids the steps applied (id, occurredAt), in order: what a store of ids kept apart adds. */
  readonly appliedIds: Array<readonly [string, number]>;
}

/** Options of {@link outcomeOf}. */
export interface OutcomeOptions {
  /** Encode the final state without its dedupe ids (layout 3): the caller stores them apart. */
  readonly idsApart?: boolean;
}

/** Folds the steps into a {@link CustomerOutcome}; `onStep` sees every step (for metrics). Undefined for no steps. */
export function outcomeOf(steps: Iterable<CustomerStep>, onStep?: (step: CustomerStep) => void, opts: OutcomeOptions = {}): CustomerOutcome | undefined {
  const decisions: StepDecision[] = [];
  const appliedIds: Array<readonly [string, number]> = [];
  let anyChange = false;
  let last: CustomerStep | undefined;
  for (const step of steps) {
    onStep?.(step);
    anyChange ||= changed(step);
    if (step.cause.kind === 'EVENT') for (const o of step.result.outcomes) if (o.outcome === 'applied') appliedIds.push([o.eventId, step.cause.eventOccurredAt as number]);
    last = step;
    const { changes, labels, effectiveAt } = step.result;
    if (changes.length) decisions.push({ changes, labels, effectiveAt, cause: step.cause });
  }
  if (!last) return undefined;
  const final = last.result.state;
  return { state: encodeState(final, opts), final, nextDueAt: last.result.nextDueAt, decisions, changed: anyChange, appliedIds };
}
