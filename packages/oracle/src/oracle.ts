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
 *   before and still within that horizon is a duplicate (skipped); each arriving event is
 *   followed by one evaluation at the clock, skipped or not;
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
}

/**
 * The label changes of one customer's events, in arrival order (the order of the
 * customer's partition). Events of other customers must not be passed.
 * @throws OracleError `EVENT_PAYLOAD_MISSING` for an event without its type's payload.
 */
export function oracleForCustomer(customerId: string, events: readonly CustomerEvent[], rules: CompiledRules, options: OracleOptions = {}): CustomerOutcome {
  const horizon = options.horizon ?? Number.POSITIVE_INFINITY;
  const maxEvaluations = options.maxEvaluations ?? 10_000_000;
  const referenced = referencedFeatures(rules);
  const applied: AppliedEvent[] = [];
  const firstSeen = new Map<string, number>(); // event id → occurredAt of its applied copy
  let held = new Map<string, number>();
  let clock = Number.NEGATIVE_INFINITY;
  const changes: OracleChange[] = [];
  let duplicates = 0;
  let late = 0;
  let timers = 0;
  let evaluations = 0;

  const evaluate = (cause: string | null): void => {
    if (++evaluations > maxEvaluations) {
      throw new OracleError('TOO_MANY_EVALUATIONS', `more than ${maxEvaluations} evaluations for ${customerId}`, { customerId });
    }
    const features = featureValues(rules, applied, clock);
    const result = evaluateLabels(rules, held, features, clock);
    held = result.held;
    for (const c of result.changes) changes.push({ customerId, ...c, effectiveAt: clock, causeEventId: cause });
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

  const runTimersUntil = (limit: number): void => {
    for (let due = nextDue(); due !== null && due <= limit; due = nextDue()) {
      clock = due;
      timers++;
      evaluate(null);
    }
  };

  for (const event of events) {
    if (applied.length > 0) runTimersUntil(event.occurredAt);
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
    }
    evaluate(event.eventId);
  }
  if (applied.length > 0) runTimersUntil(horizon);

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
export function runOracle(events: Iterable<CustomerEvent>, rules: CompiledRules, options: OracleOptions = {}): Map<string, CustomerOutcome> {
  const byCustomer = new Map<string, CustomerEvent[]>();
  for (const e of events) {
    const list = byCustomer.get(e.customerId);
    if (list) list.push(e);
    else byCustomer.set(e.customerId, [e]);
  }
  const out = new Map<string, CustomerOutcome>();
  for (const [customerId, list] of byCustomer) out.set(customerId, oracleForCustomer(customerId, list, rules, options));
  return out;
}

/** Windowed features some label reads: only they make time-based changes. */
function referencedFeatures(rules: CompiledRules): FeatureDef[] {
  const names = new Set(rules.labels.flatMap((l) => l.referencedFeatures));
  return rules.features.filter((f) => names.has(f.name) && f.windowMs !== null);
}
