/**
 * The dedupe ids of a state (`CustomerState.d`: applied event id → occurredAt), kept
 * without copying them at every step.
 *
 * Why: the evaluator replays a batch one event at a time, each step a new state, and `d`
 * holds every event id of the lateness horizon — for a very active customer, tens of
 * thousands. Copying (or rebuilding) `d` at every step made such a customer quadratic in
 * its activity, and with the states of a batch kept for their checkpoints it ran the
 * evaluator out of memory (bench/BENCHMARKS.md, "a busy customer").
 *
 * How: a state with few ids (≤ 8) keeps a plain object, copied on change. Beyond that, the
 * states of one lineage (decode → step → step …) share an append-only log of ids; each
 * state holds a view of it — the entries up to its version, minus those older
 * than its horizon (pruning only raises the horizon). Adding to the newest state of a
 * lineage is O(1); adding to an older one (a fork) first copies what that state sees.
 * States made by the engine, and decoded states with many ids (whose map `decodeState`
 * fills directly, see `idSetOf`), expose `d` as a plain object built on first read; from
 * then on that object is the state's `d`, as for any state made by hand.
 */
import type { CustomerState } from './state';

/** Shared by the states of one lineage; only ever appended to. */
class IdLog {
  constructor(
    /** id → occurredAt, in insertion order. */
    readonly times = new Map<string, number>(),
  ) {}
  /** id → the version that added it (absent = 0, present from the start). */
  readonly versions = new Map<string, number>();
  /** Newest version: only a view at this version may append without copying. */
  head = 0;
  /** Size of `times` at which {@link IdView.compacted} next counts what is still visible. */
  compactAt = 64;
}

/**
 * Up to this many ids a state keeps a plain object, copied on every change (as cheap as
 * the shared log for the usual handful of ids, and `d` stays a plain data property);
 * beyond it, the shared log. Not more: an object keyed by (unique) ids gets hidden
 * classes of its own at every decode and every copy (past 16 keys a dictionary, which the
 * spread copies back into a fast object), and building, copying, counting and walking it
 * at every step made a customer with 10-60 ids 1.3-2.5x slower per step than the log
 * (README "State and its size", `bench/engine-bench.js --only=small`).
 */
const SMALL = 8;

/** The ids one state sees. Immutable: every change returns a new set. */
export type IdSet = SmallIds | IdView;

/** A plain object of few ids, never written to once shared. */
export class SmallIds {
  constructor(
    readonly d: Record<string, number>,
    readonly size: number,
  ) {}

  has(id: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.d, id);
  }

  forEach(fn: (id: string, t: number) => void): void {
    for (const id of Object.keys(this.d)) fn(id, this.d[id] as number);
  }

  add(id: string, t: number): IdSet {
    if (this.size + 1 > SMALL) return IdView.fromObject(this.d).add(id, t);
    // Spread defines own properties (an id named __proto__ included).
    const d: Record<string, number> = { ...this.d };
    setOwn(d, id, t);
    return new SmallIds(d, this.size + 1);
  }

  prune(horizon: number): IdSet {
    let kept = 0;
    for (const k of Object.keys(this.d)) if ((this.d[k] as number) >= horizon) kept++;
    if (kept === this.size) return this;
    const d: Record<string, number> = {};
    for (const k of Object.keys(this.d)) if ((this.d[k] as number) >= horizon) setOwn(d, k, this.d[k] as number);
    return new SmallIds(d, kept);
  }
}

/** A view of a shared log (many ids). */
export class IdView {
  private constructor(
    private readonly log: IdLog,
    private readonly version: number,
    private readonly horizon: number,
  ) {}

  /** A view of a plain `d` object (copied once). */
  static fromObject(d: Record<string, number>): IdView {
    const log = new IdLog();
    for (const id of Object.keys(d)) log.times.set(id, d[id] as number);
    return new IdView(log, 0, Number.NEGATIVE_INFINITY);
  }

  /**
   * A view of a new log whose map is `times` (taken over, not copied: the caller must not
   * use it again). For decoding, which fills the map directly: no intermediate object with
   * thousands of keys, which V8 builds and walks slowly.
   */
  static fromMap(times: Map<string, number>): IdView {
    return new IdView(new IdLog(times), 0, Number.NEGATIVE_INFINITY);
  }

  private sees(id: string, t: number): boolean {
    return t >= this.horizon && (this.log.versions.get(id) ?? 0) <= this.version;
  }

  has(id: string): boolean {
    const t = this.log.times.get(id);
    return t !== undefined && this.sees(id, t);
  }

  /** The ids this view sees with their times, in insertion order. */
  forEach(fn: (id: string, t: number) => void): void {
    const horizon = this.horizon;
    if (this.version >= this.log.head) {
      // The newest view of its log sees every id the log has (up to the horizon): no
      // per-id version lookup.
      for (const [id, t] of this.log.times) if (t >= horizon) fn(id, t);
      return;
    }
    for (const [id, t] of this.log.times) if (this.sees(id, t)) fn(id, t);
  }

  /** This view plus `id` (which it must not already see). */
  add(id: string, t: number): IdView {
    let log = this.log;
    let version = this.version;
    if (log.head !== version || log.times.has(id)) {
      // A fork, or an id this view no longer sees: start a log of its own.
      const copy = new IdLog();
      this.forEach((k, kt) => copy.times.set(k, kt));
      log = copy;
      version = 0;
    }
    log.head = version + 1;
    log.times.set(id, t);
    log.versions.set(id, log.head);
    return new IdView(log, log.head, this.horizon);
  }

  /** This view without the ids older than `horizon`. */
  prune(horizon: number): IdView {
    return horizon <= this.horizon ? this : new IdView(this.log, this.version, horizon);
  }

  /**
   * The same ids on a log without those this view's horizon hides, when they are at least
   * half of the log; else this view. For a state no other state shares ids with (the
   * evaluator's cached states, changed in place): pruning only raises the horizon, so
   * without this a long-lived state's log would keep every id it ever had. Amortised O(1)
   * per id (it counts only when the log has doubled since the last count).
   */
  compacted(): IdView {
    const log = this.log;
    if (log.times.size < log.compactAt) return this;
    let visible = 0;
    this.forEach(() => visible++);
    if (visible * 2 > log.times.size) {
      log.compactAt = log.times.size * 2;
      return this;
    }
    const fresh = new IdLog();
    this.forEach((id, t) => fresh.times.set(id, t));
    fresh.compactAt = Math.max(64, visible * 2);
    return new IdView(fresh, 0, this.horizon);
  }

  toObject(): Record<string, number> {
    const d: Record<string, number> = {};
    this.forEach((id, t) => setOwn(d, id, t));
    return d;
  }
}

/**
 * The id set of `times` (id → occurredAt), as `idsOf` gives for a plain `d` of those ids:
 * a plain object up to SMALL ids, else a view of a new log that takes `times` over (the
 * caller must not use it again). For decoding stored states.
 */
export function idSetOf(times: Map<string, number>): IdSet {
  if (times.size > SMALL) return IdView.fromMap(times);
  const d: Record<string, number> = {};
  for (const [id, t] of times) setOwn(d, id, t);
  return new SmallIds(d, times.size);
}

/** Sets an own property, also for the key `__proto__` (which plain assignment would not create). */
export function setOwn(o: Record<string, number>, key: string, value: number): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

const VIEW = Symbol('labelstream.engine.ids');
type Viewed = CustomerState & { [VIEW]?: IdView };

/** The ids of `s`: its view when the engine gave it one, else its `d` object (not copied). */
export function idsOf(s: CustomerState): IdSet {
  const view = (s as Viewed)[VIEW];
  if (view) return view;
  const size = Object.keys(s.d).length;
  return size > SMALL ? IdView.fromObject(s.d) : new SmallIds(s.d, size);
}

/**
 * Gives `s` the ids `ids`. A small set is a plain `d`; a view makes `s.d` an accessor that
 * builds the plain object on first read (or takes an assigned one) and then becomes an
 * ordinary property.
 */
export function setIds(s: CustomerState, ids: IdSet): void {
  const st = s as Viewed;
  if (ids instanceof IdView && st[VIEW] !== undefined) {
    // The accessor is in place and reads the view when asked: swap the view only.
    if (st[VIEW] !== ids) st[VIEW] = ids;
    return;
  }
  if (ids instanceof SmallIds) {
    if (st[VIEW] !== undefined) st[VIEW] = undefined;
    st.d = ids.d; // through the accessor's setter, if there is one
    return;
  }
  const settle = (value: Record<string, number>): void => {
    Object.defineProperty(st, 'd', { value, writable: true, enumerable: true, configurable: true });
    st[VIEW] = undefined;
  };
  Object.defineProperty(st, VIEW, { value: ids, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(st, 'd', {
    enumerable: true,
    configurable: true,
    get(): Record<string, number> {
      const d = (st[VIEW] as IdView).toObject();
      settle(d);
      return d;
    },
    set(value: Record<string, number>) {
      settle(value);
    },
  });
}

/**
 * Gives a decoded state the ids stored apart from it (layout 3): `times` is id →
 * occurredAt, taken over (the caller must not use it again). Ids the state already has
 * (a layout 2 state, while its ids move out) are kept.
 */
export function attachIds(s: CustomerState, times: Map<string, number>): void {
  if (times.size === 0) return;
  idsOf(s).forEach((id, t) => {
    if (!times.has(id)) times.set(id, t);
  });
  setIds(s, idSetOf(times));
}

/** Lets a state that shares its ids with no other state drop, from memory, the ids its horizon hides (see IdView.compacted). */
export function compactIds(s: CustomerState): void {
  const view = (s as Viewed)[VIEW];
  if (view) {
    const c = view.compacted();
    if (c !== view) setIds(s, c);
  }
}

/** The ids a state sees, with their times (id → occurredAt), in insertion order. */
export function idEntries(s: CustomerState): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  idsOf(s).forEach((id, t) => out.push([id, t]));
  return out;
}
