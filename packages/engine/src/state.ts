/**
 * Per-customer state: what the evaluator keeps in Redis between events. Small on purpose
 * (see README "State and its size"): sparse buckets, short keys, and an encoding that
 * stores times relative to the customer's clock and bucket indexes as deltas.
 */
import { EngineError } from './errors';
import { idSetOf, idsOf, setIds } from './ids';

/** A single aggregated value (`last` and `distinct` keep field values). */
export type Scalar = number | string | boolean;
/**
 * `last` entry: the value with the greatest occurredAt; ties are broken by the larger value
 * (any fixed order makes the result independent of arrival order, and this one needs no
 * event id in the state).
 */
export type LastEntry = [value: Scalar, occurredAt: number];

/**
 * Stored data of one feature storage key (see `FeatureDef.storageKey`). The tag `k` names
 * the layout: lifetime (`n`, `L`, `D`) or windowed buckets (`w`, `l`, `x`).
 */
export type FeatureData =
  /** lifetime count / sum / min / max */
  | { k: 'n'; v: number }
  /** lifetime last */
  | { k: 'L'; v: LastEntry }
  /** lifetime distinct: value → latest occurredAt (at most DISTINCT_CAP values), sorted by value */
  | { k: 'D'; v: Array<[Scalar, number]> }
  /** windowed count / sum / min / max: non-empty buckets [bucketIndex, value], index ascending */
  | { k: 'w'; b: Array<[number, number]> }
  /**
   * windowed last: only the latest entry and its bucket index. Exact: every older entry is
   * in an older (or the same) bucket, so it leaves the window no later than the latest does.
   */
  | { k: 'l'; i: number; v: LastEntry }
  /** windowed distinct: value → bucket index of its latest event (at most DISTINCT_CAP values), sorted by value */
  | { k: 'x'; v: Array<[Scalar, number]> };

/**
 * Layout version `encodeState` writes. `decodeState` reads it and version 1 (ids as an
 * object), and returns every state as this version: the in-memory shape is the same.
 */
export const STATE_VERSION = 2;

/**
 * Stored layout with the dedupe ids kept apart (`encodeState(s, { idsApart: true })`): the
 * same as version 2 without `d`. The ids live in a store of their own (the evaluator: one
 * Redis sorted set per customer, written incrementally) and are given back to the decoded
 * state with {@link attachIds}. A distinct version so that an engine which reads only
 * versions 1 and 2 refuses such a state instead of taking it for one with no ids (and
 * counting replayed events again).
 */
export const IDS_APART_VERSION = 3;

/** Options of {@link encodeState}. */
export interface EncodeOptions {
  /** Leave the dedupe ids out (layout {@link IDS_APART_VERSION}): the caller stores them apart. */
  readonly idsApart?: boolean;
}

/** Everything the engine remembers about one customer. JSON-serialisable. */
export interface CustomerState {
  /** Layout version (see {@link STATE_VERSION}). */
  v: typeof STATE_VERSION;
  /** The customer's clock: max(event time seen, evaluation time), epoch ms; 0 before anything happened. */
  c: number;
  /** Held labels → since (epoch ms of the evaluation that assigned it). */
  l: Record<string, number>;
  /** Applied event ids → occurredAt, kept while a re-delivery would not be late. */
  d: Record<string, number>;
  /** Feature data by storage key. */
  f: Record<string, FeatureData>;
  /**
   * The rules version of the last evaluation (every evaluation decides every label, so the
   * labels held were decided under it); absent in states written before versioned rules.
   */
  r?: string;
}

/** The state of a customer never seen before. */
export function emptyState(): CustomerState {
  return { v: STATE_VERSION, c: 0, l: {}, d: {}, f: {} };
}

/**
 * A copy the engine may change (it never mutates its input). Hand-written: 5x faster than
 * structuredClone. The dedupe ids are not copied but shared as an immutable view (see
 * ids.ts): for a very active customer they are tens of thousands.
 */
export function cloneState(s: CustomerState): CustomerState {
  const f: Record<string, FeatureData> = {};
  for (const [key, data] of Object.entries(s.f)) f[key] = cloneData(data);
  const copy: CustomerState = { v: STATE_VERSION, c: s.c, l: { ...s.l }, d: {}, f };
  if (s.r !== undefined) copy.r = s.r;
  setIds(copy, idsOf(s));
  return copy;
}

function cloneData(data: FeatureData): FeatureData {
  switch (data.k) {
    case 'n':
      return { k: 'n', v: data.v };
    case 'L':
      return { k: 'L', v: [data.v[0], data.v[1]] };
    case 'l':
      return { k: 'l', i: data.i, v: [data.v[0], data.v[1]] };
    case 'w':
      return { k: 'w', b: data.b.map(([i, v]): [number, number] => [i, v]) };
    case 'D':
    case 'x':
      return { k: data.k, v: data.v.map(([v, t]): [Scalar, number] => [v, t]) };
  }
}

type Encoded = {
  v: typeof STATE_VERSION;
  c: number;
  l?: Record<string, number>;
  /** `[id, age, id, age, …]`, oldest first, ties by id (version 1: `{ [id]: age }`). */
  d?: Array<string | number>;
  f?: Record<string, number | Array<Scalar>>;
  r?: string;
};

/**
 * Compact JSON for storage. Times are stored as age relative to the clock `c`; bucket
 * indexes as the first index then deltas; keys in sorted order, so equal states encode to
 * equal strings. Dedupe ids (`d`) are a flat array `[id, age, id, age, …]` ordered by
 * occurredAt, oldest first, ties by id: an array parses and builds several times faster
 * than an object keyed by thousands of distinct ids, and the ids are already held in about
 * that order (README "State and its size"). Layouts (`f` values): a bare number is lifetime
 * count/sum/min/max; otherwise an array whose first element is the tag:
 * `["w", i0, v0, di1, v1, …]`, `["l", i, value, age]`, `["x", value, i0, value, di1, …]`,
 * `["L", value, age]`, `["D", value, age, …]`.
 */
export function encodeState(s: CustomerState, opts?: EncodeOptions): string {
  const c = s.c;
  const out: Omit<Encoded, 'v'> & { v: number } = { v: opts?.idsApart ? IDS_APART_VERSION : STATE_VERSION, c };
  const labels = sortedEntries(s.l);
  if (labels.length > 0) out.l = Object.fromEntries(labels.map(([k, since]) => [k, c - since]));
  if (!opts?.idsApart) {
    const d = encodeIds(s, c);
    if (d.length > 0) out.d = d;
  }
  const feats = sortedEntries(s.f);
  if (feats.length > 0) out.f = Object.fromEntries(feats.map(([k, data]) => [k, encodeFeature(data, c)]));
  if (s.r !== undefined) out.r = s.r;
  return JSON.stringify(out);
}

/**
 * `[id, age, …]` ordered by time, then id. The ids come in insertion order, which is
 * time order unless events arrived out of order: check that first (one pass) and sort
 * indexes only when needed. No entry arrays: there may be tens of thousands of ids.
 */
function encodeIds(s: CustomerState, c: number): Array<string | number> {
  const ids: string[] = [];
  const times: number[] = [];
  idsOf(s).forEach((id, t) => {
    ids.push(id);
    times.push(t);
  });
  const n = ids.length;
  const flat: Array<string | number> = new Array<string | number>(2 * n);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = byTimeThenId(ids, times, i - 1, i) < 0;
  if (sorted) {
    for (let i = 0; i < n; i++) {
      flat[2 * i] = ids[i] as string;
      flat[2 * i + 1] = c - (times[i] as number);
    }
    return flat;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => byTimeThenId(ids, times, a, b));
  for (let i = 0; i < n; i++) {
    const j = order[i] as number;
    flat[2 * i] = ids[j] as string;
    flat[2 * i + 1] = c - (times[j] as number);
  }
  return flat;
}

function byTimeThenId(ids: string[], times: number[], a: number, b: number): number {
  const dt = (times[a] as number) - (times[b] as number);
  if (dt !== 0) return dt;
  const x = ids[a] as string;
  const y = ids[b] as string;
  return x < y ? -1 : x > y ? 1 : 0;
}

function encodeFeature(data: FeatureData, c: number): number | Scalar[] {
  switch (data.k) {
    case 'n':
      return data.v;
    case 'L':
      return ['L', data.v[0], c - data.v[1]];
    case 'D':
      return ['D', ...[...data.v].sort(byValue).flatMap(([v, t]) => [v, c - t])];
    case 'w': {
      const flat: Scalar[] = ['w'];
      let prev = 0;
      data.b.forEach(([i, v], n) => {
        flat.push(n === 0 ? i : i - prev, v);
        prev = i;
      });
      return flat;
    }
    case 'l':
      return ['l', data.i, data.v[0], c - data.v[1]];
    case 'x': {
      const flat: Scalar[] = ['x'];
      let prev = 0;
      [...data.v].sort((a, b) => a[1] - b[1] || byValue(a, b)).forEach(([v, i], n) => {
        flat.push(v, n === 0 ? i : i - prev);
        prev = i;
      });
      return flat;
    }
  }
}

/**
 * Inverse of {@link encodeState}. A version 3 state (ids kept apart) decodes with no ids:
 * give them back with {@link attachIds}.
 * @throws EngineError `STATE_VERSION_UNSUPPORTED` or `STATE_CORRUPT`.
 */
export function decodeState(text: string): CustomerState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EngineError('STATE_CORRUPT', `stored state is not JSON: ${(e as Error).message}`);
  }
  const o = raw as { v?: unknown; c?: unknown; l?: unknown; d?: unknown; f?: unknown; r?: unknown } | null;
  if (o === null || typeof o !== 'object') throw new EngineError('STATE_CORRUPT', 'stored state is not an object');
  if (o.v !== 1 && o.v !== 2 && o.v !== IDS_APART_VERSION) throw new EngineError('STATE_VERSION_UNSUPPORTED', `stored state has version ${String(o.v)}; this engine reads versions 1, 2 and 3`);
  if (o.v === IDS_APART_VERSION && o.d !== undefined) throw new EngineError('STATE_CORRUPT', 'stored state of version 3 holds ids (they are kept apart)');
  const c = o.c;
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new EngineError('STATE_CORRUPT', 'stored state has no clock');
  try {
    const s = emptyState();
    s.c = c;
    for (const [k, age] of Object.entries(o.l ?? {})) s.l[k] = c - num(age);
    if (o.d !== undefined) {
      // Straight into the map the id set keeps (no plain object with thousands of keys).
      const times = new Map<string, number>();
      if (o.v === 1) for (const [k, age] of Object.entries(o.d ?? {})) times.set(k, c - num(age));
      else decodeIds(o.d, c, times);
      if (times.size > 0) setIds(s, idSetOf(times));
    }
    for (const [k, enc] of Object.entries(o.f ?? {})) s.f[k] = decodeFeature(enc, c);
    if (o.r !== undefined) {
      if (typeof o.r !== 'string') throw new Error('rules version is not a string');
      s.r = o.r;
    }
    return s;
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('STATE_CORRUPT', `stored state is malformed: ${(e as Error).message}`);
  }
}

/** Version 2 ids `[id, age, …]` (any order) into `times`: id → occurredAt. */
function decodeIds(d: unknown, c: number, times: Map<string, number>): void {
  if (!Array.isArray(d)) throw new Error('ids are not an array');
  if (d.length % 2 !== 0) throw new Error(`ids array length ${d.length} is odd`);
  for (let i = 0; i < d.length; i += 2) {
    const id: unknown = d[i];
    if (typeof id !== 'string') throw new Error(`expected an id, got ${JSON.stringify(id)}`);
    times.set(id, c - num(d[i + 1]));
  }
  if (times.size !== d.length / 2) throw new Error(`an id occurs twice: ${JSON.stringify(repeated(d))}`);
}

function repeated(d: unknown[]): unknown {
  const seen = new Set<unknown>();
  for (let i = 0; i < d.length; i += 2) {
    if (seen.has(d[i])) return d[i];
    seen.add(d[i]);
  }
  return undefined;
}

function decodeFeature(enc: unknown, c: number): FeatureData {
  if (typeof enc === 'number') return { k: 'n', v: enc };
  if (!Array.isArray(enc) || enc.length === 0) throw new Error('feature data is neither a number nor a tagged array');
  const [tag, ...rest] = enc as [unknown, ...unknown[]];
  switch (tag) {
    case 'L':
      exactly(rest, 2);
      return { k: 'L', v: [scalar(rest[0]), c - num(rest[1])] };
    case 'D':
      return { k: 'D', v: chunks(rest, 2).map(([v, age]): [Scalar, number] => [scalar(v), c - num(age)]).sort(byValue) };
    case 'w': {
      let i = 0;
      return { k: 'w', b: chunks(rest, 2).map(([di, v], n) => [(i = n === 0 ? num(di) : i + num(di)), num(v)]) };
    }
    case 'l':
      exactly(rest, 3);
      return { k: 'l', i: num(rest[0]), v: [scalar(rest[1]), c - num(rest[2])] };
    case 'x': {
      let i = 0;
      const v = chunks(rest, 2).map(([x, di], n): [Scalar, number] => [scalar(x), (i = n === 0 ? num(di) : i + num(di))]);
      return { k: 'x', v: v.sort(byValue) };
    }
    default:
      throw new Error(`unknown feature layout ${JSON.stringify(tag)}`);
  }
}

function chunks(a: unknown[], n: number): unknown[][] {
  if (a.length % n !== 0) throw new Error(`feature data length ${a.length} is not a multiple of ${n}`);
  const out: unknown[][] = [];
  for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
  return out;
}

function exactly(a: unknown[], n: number): void {
  if (a.length !== n) throw new Error(`feature data has ${a.length} values, expected ${n}`);
}

function num(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function scalar(v: unknown): Scalar {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  throw new Error(`expected a scalar, got ${JSON.stringify(v)}`);
}

function sortedEntries<T>(o: Record<string, T>): Array<[string, T]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Total order on scalars for deterministic output: by type name, then value. */
export function compareScalars(a: Scalar, b: Scalar): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function byValue(a: [Scalar, number], b: [Scalar, number]): number {
  return compareScalars(a[0], b[0]);
}
