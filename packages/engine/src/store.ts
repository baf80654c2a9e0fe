/**
 * Feature storage: how one event updates a storage key's data, how a feature's value is
 * read from it at a time T, when that value next changes without new events, and what
 * can be pruned. Pure functions over {@link FeatureData}.
 *
 * Window arithmetic (README "Time and windows"): bucket index = floor(t / B). A window of
 * length W at time T includes bucket i iff (i + 1)·B > T − W, so an event counts for at
 * least W and drops out exactly at its bucket's end + W.
 */
import { DISTINCT_CAP, EVENT_TYPE_OF, type Agg, type CompiledFilter, type CompiledRules, type EventView, type FeatureDef, type FeatureEvent, type FeatureValue } from '@labelstream/rules';
import { compareScalars, type FeatureData, type LastEntry, type Scalar } from './state';

/** One storage key: the features sharing it differ only in their window. */
export interface StoreDef {
  readonly key: string;
  readonly event: FeatureEvent;
  /** Wire event type matched, or null for `any`. */
  readonly eventType: string | null;
  readonly agg: Agg;
  readonly field: string | null;
  readonly where: CompiledFilter | null;
  readonly lifetime: boolean;
  readonly bucketMs: number;
  /** Longest window among the features sharing this key: data older than that is pruned. */
  readonly retainMs: number;
}

/** Rules prepared for the engine (cached per CompiledRules object). */
export interface Plan {
  readonly stores: readonly StoreDef[];
  readonly storeOf: ReadonlyMap<string, StoreDef>;
  /** Features read by at least one label: only they schedule timers. */
  readonly referenced: ReadonlySet<string>;
  /** The referenced features with a window (only they change with time alone), in rules order. */
  readonly referencedWindowed: readonly FeatureDef[];
  /** Label name → index in `rules.labels`. */
  readonly labelIndex: ReadonlyMap<string, number>;
  /** Exclusive groups: their defined members in priority order, with the reason a suppressed member gets. */
  readonly exclusiveGroups: ReadonlyArray<ReadonlyArray<{ readonly index: number; readonly reason: string }>>;
}

const plans = new WeakMap<CompiledRules, Plan>();

export function planFor(rules: CompiledRules): Plan {
  const cached = plans.get(rules);
  if (cached) return cached;
  const byKey = new Map<string, StoreDef>();
  for (const f of rules.features) {
    const prev = byKey.get(f.storageKey);
    const retainMs = Math.max(prev?.retainMs ?? 0, f.windowMs ?? 0);
    byKey.set(f.storageKey, {
      key: f.storageKey,
      event: f.event,
      eventType: f.event === 'any' ? null : EVENT_TYPE_OF[f.event],
      agg: f.agg,
      field: f.field,
      where: f.where,
      lifetime: f.windowMs === null,
      bucketMs: f.bucketMs,
      retainMs,
    });
  }
  const referenced = new Set(rules.labels.flatMap((l) => l.referencedFeatures));
  const labelIndex = new Map(rules.labels.map((l, i) => [l.name, i] as const));
  const plan: Plan = {
    stores: [...byKey.values()],
    storeOf: byKey,
    referenced,
    referencedWindowed: rules.features.filter((f) => referenced.has(f.name) && f.windowMs !== null),
    labelIndex,
    exclusiveGroups: rules.groups
      .filter((g) => g.exclusive)
      .map((g) => g.priority.filter((m) => labelIndex.has(m)).map((m) => ({ index: labelIndex.get(m) as number, reason: `group:${g.name}` }))),
  };
  plans.set(rules, plan);
  return plan;
}

/** Outcome of offering one event to one store. */
export type ApplyOutcome = { readonly applied: boolean; readonly filterError?: string };

/**
 * Adds one event to a store's data (mutating `data` in place, or creating it).
 * Events of another type, failing the filter, or whose field is null/absent do not count.
 * Returns the new data (undefined when the store is still empty).
 */
export function applyEvent(
  store: StoreDef,
  data: FeatureData | undefined,
  view: EventView,
  clock: number,
): { data: FeatureData | undefined; outcome: ApplyOutcome } {
  if (store.eventType !== null && view.eventType !== store.eventType) return { data, outcome: { applied: false } };
  if (store.where) {
    const r = store.where.evaluate(view);
    if (!r.matches) return { data, outcome: r.error !== undefined ? { applied: false, filterError: r.error } : { applied: false } };
  }
  const t = view.occurredAt as number;
  const raw = store.field === null ? null : view[store.field];
  let values: Scalar[];
  if (store.agg === 'count') values = [1];
  else if (raw === null || raw === undefined) return { data, outcome: { applied: false } };
  else if (Array.isArray(raw)) values = store.agg === 'distinct' ? [...(raw as readonly string[])] : [];
  else values = [raw as Scalar];
  if (values.length === 0) return { data, outcome: { applied: false } };

  if (store.lifetime) return { data: applyLifetime(store.agg, data, values, t), outcome: { applied: true } };
  const idx = Math.floor(t / store.bucketMs);
  // Already outside every window using this key: it can never count again.
  if ((idx + 1) * store.bucketMs <= clock - store.retainMs) return { data, outcome: { applied: false } };
  return { data: applyWindowed(store.agg, data, values, idx, t), outcome: { applied: true } };
}

function applyLifetime(agg: Agg, data: FeatureData | undefined, values: Scalar[], t: number): FeatureData {
  const v = values[0] as Scalar;
  switch (agg) {
    case 'count':
      return { k: 'n', v: (data?.k === 'n' ? data.v : 0) + 1 };
    case 'sum':
      return { k: 'n', v: (data?.k === 'n' ? data.v : 0) + (v as number) };
    case 'min':
      return { k: 'n', v: data?.k === 'n' ? Math.min(data.v, v as number) : (v as number) };
    case 'max':
      return { k: 'n', v: data?.k === 'n' ? Math.max(data.v, v as number) : (v as number) };
    case 'last': {
      const entry: LastEntry = [v, t];
      return { k: 'L', v: data?.k === 'L' && !laterThan(entry, data.v) ? data.v : entry };
    }
    case 'distinct': {
      const d = data?.k === 'D' ? data : { k: 'D' as const, v: [] as Array<[Scalar, number]> };
      for (const x of values) upsertDistinct(d.v, x, t);
      return d;
    }
  }
}

function applyWindowed(agg: Agg, data: FeatureData | undefined, values: Scalar[], idx: number, t: number): FeatureData {
  if (agg === 'distinct') {
    const d = data?.k === 'x' ? data : { k: 'x' as const, v: [] as Array<[Scalar, number]> };
    for (const x of values) upsertDistinct(d.v, x, idx);
    return d;
  }
  if (agg === 'last') {
    const entry: LastEntry = [values[0] as Scalar, t];
    return data?.k === 'l' && !laterThan(entry, data.v) ? data : { k: 'l', i: idx, v: entry };
  }
  const d = data?.k === 'w' ? data : { k: 'w' as const, b: [] as Array<[number, number]> };
  const v = agg === 'count' ? 1 : (values[0] as number);
  const pos = bucketPosition(d.b, idx);
  const cur = d.b[pos];
  if (cur && cur[0] === idx) cur[1] = combine(agg, cur[1], v);
  else d.b.splice(pos, 0, [idx, v]);
  return d;
}

function combine(agg: Agg, a: number, b: number): number {
  switch (agg) {
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
    default:
      return a + b; // count (b = 1) and sum
  }
}

/** Index of the first bucket with index >= idx (scanning from the end: most events are recent). */
function bucketPosition<T>(b: Array<[number, T]>, idx: number): number {
  let pos = b.length;
  while (pos > 0 && (b[pos - 1] as [number, T])[0] >= idx) pos--;
  return pos;
}

/** Records `time` for `value` (keeping the latest), sorted by value, evicting beyond the cap. */
function upsertDistinct(entries: Array<[Scalar, number]>, value: Scalar, time: number): void {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareScalars((entries[mid] as [Scalar, number])[0], value) < 0) lo = mid + 1;
    else hi = mid;
  }
  const cur = entries[lo];
  if (cur && cur[0] === value) {
    cur[1] = Math.max(cur[1], time);
    return;
  }
  entries.splice(lo, 0, [value, time]);
  if (entries.length > DISTINCT_CAP) {
    // Evict the value seen longest ago (ties: the smallest value), deterministically.
    let victim = 0;
    entries.forEach(([v, tm], i) => {
      const [bv, bt] = entries[victim] as [Scalar, number];
      if (tm < bt || (tm === bt && compareScalars(v, bv) < 0)) victim = i;
    });
    entries.splice(victim, 1);
  }
}

/** Whether `a` is later than `b`: greater occurredAt, ties broken by the larger value. */
function laterThan(a: LastEntry, b: LastEntry): boolean {
  return a[1] > b[1] || (a[1] === b[1] && compareScalars(a[0], b[0]) > 0);
}

/** The empty value of an aggregation: 0 for count/sum/distinct, null for min/max/last. */
export function emptyValue(agg: Agg): FeatureValue {
  return agg === 'count' || agg === 'sum' || agg === 'distinct' ? 0 : null;
}

/** The value of feature `def` at time `t` (t must be ≥ every stored event time). */
export function featureValue(def: FeatureDef, data: FeatureData | undefined, t: number): FeatureValue {
  if (!data) return emptyValue(def.agg);
  switch (data.k) {
    case 'n':
      return data.v;
    case 'L':
      return data.v[0];
    case 'D':
      return data.v.length;
    case 'x': {
      let n = 0;
      for (const e of data.v) if (inWindow(e[1], def, t)) n++;
      return n;
    }
    case 'w':
      return aggregateWindow(def, data.b, t);
    case 'l':
      return inWindow(data.i, def, t) ? data.v[0] : null;
  }
}

function inWindow(idx: number, def: FeatureDef, t: number): boolean {
  return def.windowMs === null || (idx + 1) * def.bucketMs > t - def.windowMs;
}

/** count/sum/min/max over the buckets in the window at `t`, without intermediate arrays (buckets are index-ascending). */
function aggregateWindow(def: FeatureDef, b: ReadonlyArray<readonly [number, number]>, t: number): FeatureValue {
  const agg = def.agg;
  let start = 0;
  while (start < b.length && !inWindow((b[start] as readonly [number, number])[0], def, t)) start++;
  if (agg === 'count' || agg === 'sum') {
    let sum = 0;
    for (let j = start; j < b.length; j++) sum += (b[j] as readonly [number, number])[1];
    return sum;
  }
  if (start === b.length) return null;
  let acc = (b[start] as readonly [number, number])[1];
  for (let j = start + 1; j < b.length; j++) {
    const v = (b[j] as readonly [number, number])[1];
    acc = agg === 'min' ? Math.min(acc, v) : Math.max(acc, v);
  }
  return acc;
}

/**
 * The earliest time > t at which the value of `def` changes with no new event (a bucket
 * leaving the window changes the value), or null if it never does. Exact: an expiry that
 * leaves the value unchanged (e.g. a max still held by a later bucket) is skipped.
 */
export function nextChange(def: FeatureDef, data: FeatureData | undefined, t: number): number | null {
  if (!data || def.windowMs === null) return null;
  const w = def.windowMs;
  const b = def.bucketMs;
  const expiry = (idx: number): number => (idx + 1) * b + w;
  switch (data.k) {
    case 'x': {
      let best: number | null = null;
      for (const [, i] of data.v) if (inWindow(i, def, t) && (best === null || expiry(i) < best)) best = expiry(i);
      return best;
    }
    case 'w': {
      // The buckets in the window at t, index ascending: b[start..]. The value changes when
      // the first of them whose expiry changes the aggregate expires: with suffix[j] the
      // value once b[start..j-1] have expired, the first j with suffix[j+1] !== suffix[start].
      const b = data.b;
      let start = 0;
      while (start < b.length && !inWindow((b[start] as [number, number])[0], def, t)) start++;
      const n = b.length - start;
      if (n === 0) return null;
      const suffix: FeatureValue[] = new Array<FeatureValue>(n + 1);
      suffix[n] = emptyValue(def.agg);
      for (let j = n - 1; j >= 0; j--) suffix[j] = suffixStep(def.agg, (b[start + j] as [number, number])[1], suffix[j + 1] ?? null);
      for (let j = 0; j < n; j++) {
        if (suffix[j + 1] !== suffix[0]) return expiry((b[start + j] as [number, number])[0]);
      }
      return null;
    }
    case 'l':
      return inWindow(data.i, def, t) ? expiry(data.i) : null;
    default:
      return null;
  }
}

function suffixStep(agg: Agg, v: number, rest: FeatureValue): FeatureValue {
  if (agg === 'count' || agg === 'sum') return v + ((rest as number | null) ?? 0);
  if (rest === null) return v;
  return agg === 'min' ? Math.min(v, rest as number) : Math.max(v, rest as number);
}

/** Drops buckets no window can include any more (t = the new clock). Returns undefined when nothing is left. */
export function prune(store: StoreDef, data: FeatureData, t: number): FeatureData | undefined {
  if (store.lifetime) return data;
  const keep = (idx: number): boolean => (idx + 1) * store.bucketMs > t - store.retainMs;
  switch (data.k) {
    case 'w': {
      // Index ascending: nothing to drop when the oldest bucket is kept.
      if (data.b.length > 0 && keep((data.b[0] as [number, number])[0])) return data;
      const b = data.b.filter(([i]) => keep(i));
      return b.length > 0 ? { k: 'w', b } : undefined;
    }
    case 'l':
      return keep(data.i) ? data : undefined;
    case 'x': {
      if (data.v.every(([, i]) => keep(i))) return data;
      const v = data.v.filter(([, i]) => keep(i));
      return v.length > 0 ? { k: 'x', v } : undefined;
    }
    default:
      return data;
  }
}
