/**
 * Feature values by brute force: every applied event is kept, and a feature at time T is
 * recomputed by scanning all of them. No buckets are stored; the bucket size only decides
 * when an event stops counting.
 */
import { EVENT_TYPE_OF, type CompiledRules, type EventView, type FeatureDef, type FeatureValue } from '@labelstream/rules';

/** An event the customer's state has counted (not late, not a duplicate). */
export interface AppliedEvent {
  readonly eventId: string;
  readonly occurredAt: number;
  readonly view: EventView;
  /**
   * What it contributes to each feature, by feature name ({@link contributions}, worked
   * out once when the event is applied: a pure function of the event, cached only so
   * that rescanning a long history does not re-run every `where` filter).
   */
  readonly contributes: ReadonlyMap<string, readonly Scalar[]>;
}

type Scalar = number | string | boolean;

/** An applied event with its contributions to every feature of the rules (none to the features named in `without`). */
export function appliedEvent(rules: CompiledRules, eventId: string, occurredAt: number, view: EventView, without?: ReadonlySet<string>): AppliedEvent {
  const contributes = new Map<string, Scalar[]>();
  const e = { eventId, occurredAt, view, contributes };
  for (const f of rules.features) contributes.set(f.name, without?.has(f.name) ? [] : contributions(f, e));
  return e;
}

/**
 * The values `e` contributes to `f`, or none: wrong event type, a `where` filter that does
 * not hold (or fails to evaluate), or a null/absent field. `count` contributes one `1`;
 * `distinct` over a list field contributes each element.
 */
export function contributions(f: FeatureDef, e: Pick<AppliedEvent, 'view'>): Scalar[] {
  if (f.event !== 'any' && e.view.eventType !== EVENT_TYPE_OF[f.event]) return [];
  if (f.where && !f.where.matches(e.view)) return [];
  if (f.agg === 'count') return [1];
  const raw = e.view[f.field as string];
  if (raw === null || raw === undefined) return [];
  if (Array.isArray(raw)) return f.agg === 'distinct' ? [...(raw as readonly string[])] : [];
  return [raw as Scalar];
}

/**
 * When `e` stops counting for `f`: the end of its bucket plus the window (an event counts
 * for at least the window, at most one bucket longer). Null for lifetime features.
 */
export function expiryOf(f: FeatureDef, occurredAt: number): number | null {
  if (f.windowMs === null) return null;
  return (Math.floor(occurredAt / f.bucketMs) + 1) * f.bucketMs + f.windowMs;
}

/** Whether an event at `occurredAt` still counts for `f` at time `at` (`at` ≥ the event). */
export function counts(f: FeatureDef, occurredAt: number, at: number): boolean {
  const expiry = expiryOf(f, occurredAt);
  return expiry === null || at < expiry;
}

/** The value of one feature at `at` over the applied events. */
export function featureValue(f: FeatureDef, applied: readonly AppliedEvent[], at: number): FeatureValue {
  const values: Scalar[] = [];
  let last: { value: Scalar; at: number } | null = null;
  for (const e of applied) {
    if (!counts(f, e.occurredAt, at)) continue;
    for (const v of e.contributes.get(f.name) ?? []) {
      values.push(v);
      // `last`: the greatest occurredAt wins; on a tie, the larger value.
      if (last === null || e.occurredAt > last.at || (e.occurredAt === last.at && compare(v, last.value) > 0)) last = { value: v, at: e.occurredAt };
    }
  }
  switch (f.agg) {
    case 'count':
      return values.length;
    case 'sum':
      return (values as number[]).reduce((a, b) => a + b, 0);
    case 'min':
      return values.length === 0 ? null : (values as number[]).reduce((a, b) => Math.min(a, b));
    case 'max':
      return values.length === 0 ? null : (values as number[]).reduce((a, b) => Math.max(a, b));
    case 'distinct':
      return new Set(values).size;
    case 'last':
      return last === null ? null : last.value;
  }
}

/** All features of the rules at `at`, by name. */
export function featureValues(rules: CompiledRules, applied: readonly AppliedEvent[], at: number): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const f of rules.features) out[f.name] = featureValue(f, applied, at);
  return out;
}

function compare(a: Scalar, b: Scalar): number {
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
