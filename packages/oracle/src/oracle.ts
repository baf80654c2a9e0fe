/**
 * The reference oracle: given one customer's events in arrival order and the rules, the
 * exact sequence of label changes the documented semantics imply, including time-based
 * changes at their due times. Deliberately naive — every applied event is kept in a list
 * and features are rescanned at each evaluation; due times are found by trying every
 * candidate time — so that it is obviously right rather than fast.
 *
 * Semantics reproduced (packages/engine/README.md):
 * - a per-customer clock: max(event times applied, evaluation times); every evaluation
 *   happens at the clock;
 * - an event older than clock − allowedLateness is late (skipped); an event id applied
 *   before and still within that horizon is a duplicate (skipped); each applied event is
 *   followed by one evaluation at the clock; a late or duplicate one decides nothing (no
 *   evaluation: under unchanged rules it could change nothing, and across a rules switch
 *   the re-delivered copy of an event applied under the old rules must not decide the new
 *   rules' changes — the sweep does);
 * - an event counts until its bucket's end + the window;
 * - hysteresis (enter/exit), minimum dwell, exclusive groups;
 * - time-based evaluations at each due time: the earliest time after the clock at which a
 *   feature some label reads changes value, or a label kept only by its dwell may leave.
 *   A due time at or before the next event's time is evaluated before that event.
 */
import type { ChangeKind, CustomerEvent } from '@labelstream/contracts';
import type { CompiledRules, FeatureDef, FeatureValue } from '@labelstream/rules';
import { OracleError } from './errors';
import { viewOf } from './event-view';
import { appliedEvent, expiryOf, featureValue, featureValues, type AppliedEvent } from './features';
import { evaluateLabels } from './labels';

/** One label change the rules imply. */
export interface OracleChange {
  readonly customerId: string;
  readonly label: string;
  readonly category: string;
  readonly change: ChangeKind;
  /** `enter`, `exit` or `group:<name>`. */
  readonly reason: string;
  /** Event time of the evaluation that made the change. */
  readonly effectiveAt: number;
  /** The event whose arrival caused it, or null for a time-based change. */
  readonly causeEventId: string | null;
  /** The values of the features the label reads, at `effectiveAt`. */
  readonly features: Record<string, FeatureValue>;
  /** The version of the rules the evaluation ran under. */
  readonly rulesVersion: string;
  /** What caused the evaluation: an event, a due time, or a rules switch's re-evaluation. */
  readonly cause: 'EVENT' | 'TIMER' | 'RULES_CHANGED';
}

/**
 * A live rules change as one customer lived it (README "Changing rules"): the evaluations
 * before the switch point run under the options' `rules`, those after under `rules` here.
 * The switch point is its partition's, as its owner recorded it: the customer's events from
 * index `firstEvent` on (in the order given) are evaluated under the new rules (those
 * applied: a duplicate or late one, such as an event applied before the switch point and
 * delivered again after it, decides nothing), and so is every due time after
 * `timersUntil` that is not followed by an earlier event. At the
 * switch point, when `swept`, the customer is re-evaluated once at its clock under the new
 * rules (cause RULES_CHANGED): by the sweep, or by whichever event or timer reaches it first
 * (the evaluator re-checks a customer not yet evaluated under the rules in force before
 * anything else).
 *
 * A new or redefined feature is backfilled at the switch from the whole history (as the
 * evaluator does from the input topic when it holds the window before the oldest customer
 * clock): its value is what it would be had it always been defined so. Unless `backfill`
 * is false (a control): then it starts empty at the switch, counting only what follows.
 */
export interface RulesSwitch {
  readonly rules: CompiledRules;
  readonly firstEvent: number;
  /** Null: no timer fired under the old rules by the timer loop (only those fired by a following event's replay). */
  readonly timersUntil: number | null;
  readonly swept: boolean;
  /** Default true: new or redefined features filled from the whole history at the switch; false: they start empty. */
  readonly backfill?: boolean;
}

/** Everything the oracle concluded about one customer. */
export interface CustomerOutcome {
  readonly customerId: string;
  /** Label changes in the order they must be published. */
  readonly changes: OracleChange[];
  /** Labels held at the end, in rules order. */
  readonly labels: string[];
  /** The customer's clock at the end. */
  readonly clock: number;
  readonly applied: number;
  readonly duplicates: number;
  readonly late: number;
  /** Time-based evaluations performed. */
  readonly timerEvaluations: number;
}

export interface OracleOptions {
  /**
   * Time-based evaluations after the last event happen for due times at or before this
   * (epoch ms). Default: until nothing is due any more. Due times before an event are
   * always evaluated (they precede it), whatever the horizon.
   */
  readonly horizon?: number;
  /** Guard against a runaway loop: at most this many evaluations per customer (default 10 million). */
  readonly maxEvaluations?: number;
  /** A rules change during the log, as this customer lived it (oracleForCustomer); runOracle takes a function of the customer. */
  readonly rulesSwitch?: RulesSwitch;
}

/**
 * The label changes of one customer's events, in arrival order (the order of the
 * customer's partition). Events of other customers must not be passed.
 * @throws OracleError `EVENT_PAYLOAD_MISSING` for an event without its type's payload.
 */
export function oracleForCustomer(customerId: string, events: readonly CustomerEvent[], initialRules: CompiledRules, options: OracleOptions = {}): CustomerOutcome {
  const horizon = options.horizon ?? Number.POSITIVE_INFINITY;
  const maxEvaluations = options.maxEvaluations ?? 10_000_000;
  const sw = options.rulesSwitch;
  let rules = initialRules;
  let referenced = referencedFeatures(rules);
  let switched = false;
  const applied: AppliedEvent[] = [];
  const firstSeen = new Map<string, number>(); // event id → occurredAt of its applied copy
  let held = new Map<string, number>();
  let clock = Number.NEGATIVE_INFINITY;
  const changes: OracleChange[] = [];
  let duplicates = 0;
  let late = 0;
  let timers = 0;
  let evaluations = 0;

  const evaluate = (cause: string | null, kind: OracleChange['cause']): void => {
    if (++evaluations > maxEvaluations) {
      throw new OracleError('TOO_MANY_EVALUATIONS', `more than ${maxEvaluations} evaluations for ${customerId}`, { customerId });
    }
    const features = featureValues(rules, applied, clock);
    const result = evaluateLabels(rules, held, features, clock);
    held = result.held;
    for (const c of result.changes) changes.push({ customerId, ...c, effectiveAt: clock, causeEventId: cause, rulesVersion: rules.version, cause: kind });
  };

  /** The switch point: the new rules from here on, after the sweep's re-evaluation at the clock when it reached the customer first. */
  const switchRules = (): void => {
    if (!sw || switched) return;
    switched = true;
    const before = new Set(rules.features.map((f) => f.storageKey));
    rules = sw.rules;
    referenced = referencedFeatures(rules);
    // What the applied events contribute under the new definitions: the backfill.
    const empty = new Set(sw.backfill === false ? rules.features.filter((f) => !before.has(f.storageKey)).map((f) => f.name) : []);
    for (const [i, e] of applied.entries()) applied[i] = appliedEvent(rules, e.eventId, e.occurredAt, e.view, empty);
    if (sw.swept) evaluate(null, 'RULES_CHANGED');
  };

  /** The next due time after the clock, by trying every candidate in time order. */
  const nextDue = (): number | null => {
    const candidates = new Set<number>();
    for (const f of referenced) {
      for (const e of applied) {
        const expiry = expiryOf(f, e.occurredAt);
        if (expiry !== null && expiry > clock && (e.contributes.get(f.name)?.length ?? 0) > 0) candidates.add(expiry);
      }
    }
    const now = featureValues(rules, applied, clock);
    const dwellEnds = new Set<number>();
    for (const label of rules.labels) {
      const since = held.get(label.name);
      if (since === undefined || label.minDwellMs === 0) continue;
      const end = since + label.minDwellMs;
      // Kept only by its dwell: exit holds now, so it may leave when the dwell ends.
      if (end > clock && label.exit(now)) {
        candidates.add(end);
        dwellEnds.add(end);
      }
    }
    for (const t of [...candidates].sort((a, b) => a - b)) {
      if (dwellEnds.has(t)) return t;
      if (referenced.some((f) => featureValue(f, applied, t) !== now[f.name])) return t;
    }
    return null;
  };

  /** `beforeNew`: the timers precede an event evaluated under the new rules (or the end of the log). */
  const runTimersUntil = (limit: number, beforeNew: boolean): void => {
    for (let due = nextDue(); due !== null && due <= limit; due = nextDue()) {
      // A due time of the old rules that their timers had not fired by the switch: the
      // switch comes first, and from there the new rules' due times (the re-check at the
      // switch point replaces the customer's timer with the new rules' one).
      if (beforeNew && !switched && (sw!.timersUntil === null || due > sw!.timersUntil)) {
        switchRules();
        continue;
      }
      clock = due;
      timers++;
      evaluate(null, 'TIMER');
    }
  };

  for (const [index, event] of events.entries()) {
    const isNew = sw !== undefined && index >= sw.firstEvent;
    if (applied.length > 0) runTimersUntil(event.occurredAt, isNew);
    if (isNew && !switched) {
      switchRules();
      // The re-check set the new rules' due times: those at or before the event come first.
      if (applied.length > 0) runTimersUntil(event.occurredAt, false);
    }
    const horizonOfIds = clock - rules.allowedLatenessMs;
    const seenAt = firstSeen.get(event.eventId);
    if (event.occurredAt < horizonOfIds) {
      late++;
    } else if (seenAt !== undefined && seenAt >= horizonOfIds) {
      duplicates++;
    } else {
      applied.push(appliedEvent(rules, event.eventId, event.occurredAt, viewOf(event)));
      firstSeen.set(event.eventId, event.occurredAt);
      clock = Math.max(clock, event.occurredAt);
      evaluate(event.eventId, 'EVENT');
    }
  }
  if (applied.length > 0) runTimersUntil(horizon, sw !== undefined);
  // Swept with nothing after the switch point: the sweep's evaluation is the last one.
  if (sw?.swept) switchRules();

  return {
    customerId,
    changes,
    labels: rules.labels.map((l) => l.name).filter((n) => held.has(n)),
    clock,
    applied: applied.length,
    duplicates,
    late,
    timerEvaluations: timers,
  };
}

/**
 * The oracle over a whole log: events grouped by customer, each customer's in the order
 * given (the per-customer order of the partitions they were read from).
 */
export function runOracle(
  events: Iterable<CustomerEvent>,
  rules: CompiledRules,
  options: Omit<OracleOptions, 'rulesSwitch'> & { rulesSwitch?: (customerId: string, events: readonly CustomerEvent[]) => RulesSwitch | undefined } = {},
): Map<string, CustomerOutcome> {
  const byCustomer = new Map<string, CustomerEvent[]>();
  for (const e of events) {
    const list = byCustomer.get(e.customerId);
    if (list) list.push(e);
    else byCustomer.set(e.customerId, [e]);
  }
  const out = new Map<string, CustomerOutcome>();
  const { rulesSwitch, ...common } = options;
  for (const [customerId, list] of byCustomer) {
    const sw = rulesSwitch?.(customerId, list);
    out.set(customerId, oracleForCustomer(customerId, list, rules, sw ? { ...common, rulesSwitch: sw } : common));
  }
  return out;
}

/** Windowed features some label reads: only they make time-based changes. */
function referencedFeatures(rules: CompiledRules): FeatureDef[] {
  const names = new Set(rules.labels.flatMap((l) => l.referencedFeatures));
  return rules.features.filter((f) => names.has(f.name) && f.windowMs !== null);
}
