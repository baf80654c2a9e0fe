/**
 * Backfill (README "Changing rules"): a rules switch that adds or redefines a feature gives
 * it a storage key no stored state has. Instead of letting it start empty, the evaluator
 * folds the partition's retained history into that key — and only that key: the other
 * features already counted those events. Pure: the caller reads the history and writes the
 * states.
 */
import type { CompiledRules } from '@labelstream/rules';
import { eventView, type EngineEvent } from './event';
import type { CustomerState, FeatureData } from './state';
import { applyEvent, planFor, prune, type StoreDef } from './store';

/** What a switch from `previous` to `next` must backfill: the storage keys `next` has and `previous` lacks. */
export interface BackfillPlan {
  /** Storage keys to fill from history (every feature sharing one is filled at once). */
  readonly keys: ReadonlySet<string>;
  /**
   * How far back of a customer's clock the history must reach for the longest of them, ms:
   * its window plus one bucket (an event counts until its bucket's end + the window); null
   * when one is lifetime (all of it).
   */
  readonly historyMs: number | null;
}

/**
 * The storage keys a switch starts empty, and the history they need; null when there are
 * none (nothing to backfill). Features nobody reads are included: a later version may read
 * them under the same key, and would then take them for whole.
 */
export function backfillPlan(previous: CompiledRules, next: CompiledRules): BackfillPlan | null {
  const old = new Set(previous.features.map((f) => f.storageKey));
  const keys = new Set<string>();
  let historyMs: number | null = 0;
  for (const f of next.features) {
    if (old.has(f.storageKey)) continue;
    keys.add(f.storageKey);
    historyMs = historyMs === null || f.windowMs === null ? null : Math.max(historyMs, f.windowMs + f.bucketMs);
  }
  return keys.size ? { keys, historyMs } : null;
}

/**
 * Where the history of a backfill for `plan` starts when the switch happens at `at` (epoch
 * ms) and the partition's oldest customer clock is `oldestClock`: one longest window (plus
 * a bucket) before the earlier of the two; null for a lifetime feature (the log start).
 *
 * Not the switch time alone: the sweep evaluates each customer at its own clock, and a
 * customer whose clock lags (no event and no timer for a while: its features' windows end
 * at its clock) needs the events of one window before that clock, which may have been
 * produced well before `at` − window. And records are found by their time, when ingest
 * produced them, which may be up to `futureSkewMs` before the event's own time (ingest
 * accepts events that far in the future: INGEST_MAX_FUTURE_SKEW). The evaluator's switch
 * and the dry run (`labelstream rules diff`) read the same range through this (in
 * {@link runBackfill}).
 */
export function backfillSince(plan: BackfillPlan, at: number, oldestClock: number = at, futureSkewMs = 0): number | null {
  return plan.historyMs === null ? null : Math.min(at, oldestClock) - plan.historyMs - futureSkewMs;
}

/** One customer's backfill in progress: the new keys' data, with the fold's own clock and dedupe ids. */
export interface BackfillFold {
  /** The clock as live processing would have advanced it with these events. */
  c: number;
  /** Applied event ids → occurredAt, those of the lateness horizon (as a live state keeps them). */
  readonly ids: Map<string, number>;
  /** Data by storage key (only the plan's keys). */
  readonly f: Record<string, FeatureData>;
}

/** The stores of `keys` under `rules` (cached per rules and key set by the caller if it matters). */
function storesOf(rules: CompiledRules, keys: ReadonlySet<string>): StoreDef[] {
  return planFor(rules).stores.filter((s) => keys.has(s.key));
}

/**
 * Folds a customer's events from history (in log order) into the new keys, as live
 * processing would have: an event older than the fold's clock − allowed lateness is late,
 * one whose id was applied within the lateness horizon is a duplicate, the others count in
 * their event-time bucket. The customer's stored dedupe ids are not consulted: those
 * events were applied to the other features, not to these. Mutates and returns `fold`
 * (a new one when undefined).
 */
export function foldHistory(fold: BackfillFold | undefined, events: readonly EngineEvent[], rules: CompiledRules, keys: ReadonlySet<string>): BackfillFold {
  const out: BackfillFold = fold ?? { c: 0, ids: new Map(), f: {} };
  const stores = storesOf(rules, keys);
  const lateness = rules.allowedLatenessMs;
  for (const e of events) {
    if (e.occurredAt < out.c - lateness || out.ids.has(e.eventId)) continue;
    out.c = Math.max(out.c, e.occurredAt);
    out.ids.set(e.eventId, e.occurredAt);
    const view = eventView(e);
    for (const store of stores) {
      const r = applyEvent(store, out.f[store.key], view, out.c);
      if (r.data) out.f[store.key] = r.data;
    }
  }
  // Ids past the horizon can only come back late: drop them, as a live state does (a fold is
  // kept per customer for a whole partition's history). Oldest first, in arrival order: stop
  // at the first one still inside — one that arrived out of order stays a little longer,
  // which changes no verdict (its event is late either way).
  const horizon = out.c - lateness;
  for (const [id, t] of out.ids) {
    if (t >= horizon) break;
    out.ids.delete(id);
  }
  return out;
}

/**
 * Puts a fold's data in a stored state: each of `keys` gets exactly the fold's data
 * (pruned at the state's clock), replacing whatever the key held — so running a backfill
 * again after a crash gives the same state, never twice the counts. `fold` undefined: the
 * customer has no event in the history, the keys are emptied. Mutates `state`; returns
 * whether it changed.
 */
export function mergeBackfill(state: CustomerState, fold: BackfillFold | undefined, rules: CompiledRules, keys: ReadonlySet<string>): boolean {
  let changed = false;
  for (const store of storesOf(rules, keys)) {
    const had = state.f[store.key];
    const data = fold?.f[store.key];
    const kept = data === undefined ? undefined : prune(store, data, state.c);
    if (kept === undefined) {
      if (had !== undefined) {
        delete state.f[store.key];
        changed = true;
      }
      continue;
    }
    if (had === undefined || JSON.stringify(had) !== JSON.stringify(kept)) changed = true;
    state.f[store.key] = kept;
  }
  return changed;
}

/**
 * The customers one backfill pass folds: those whose {@link customerHash} modulo `of` (a
 * power of two) is `index`. Splitting a shard gives (index, 2·of) and (index + of, 2·of):
 * the shards of a run always divide the customers exactly, whichever ones were split.
 */
export interface Shard {
  readonly index: number;
  readonly of: number;
}

/** FNV-1a over the id's UTF-16 code units: stable across processes and releases (a shard is a pure function of the id). */
export function customerHash(customerId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) {
    h ^= customerId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function inShard(customerId: string, shard: Shard): boolean {
  return shard.of === 1 || (customerHash(customerId) & (shard.of - 1)) === shard.index;
}

/** The I/O of {@link runBackfill}: one partition's input history and its stored customers. */
export interface BackfillIo<R extends { readonly since: number }> {
  /**
   * Reads the partition's history from `sinceMs` (by record time; null: the log start) up
   * to a fixed end (the same range on every call), handing its events
   * to `onEvents` batch by batch in log order, awaited. Events of customers `keep` refuses
   * may be left out (before decoding, when the record's key tells the customer): the driver
   * drops them anyway. Returns how far back it reached (`since`, as the evaluator's
   * warm-up reads it: −Infinity when complete).
   */
  readHistory(sinceMs: number | null, keep: (customerId: string) => boolean, onEvents: (events: readonly EngineEvent[]) => Promise<void> | void): Promise<R>;
  /** One page of the partition's stored customers: cursor '0' starts, a returned '0' ends (duplicates allowed, as SCAN gives). */
  scanCustomers(cursor: string): Promise<{ readonly cursor: string; readonly customers: readonly string[] }>;
  /** The clocks of a page of stored customers (those with no state left out): where the history must start ({@link backfillSince}). */
  clocks(customers: readonly string[]): Promise<number[]>;
  /**
   * Puts the backfill of a page of stored customers (every one of the pass's shard) in
   * place: `folds.get(id)` undefined means the customer has no event in the history, and the
   * plan's keys are emptied ({@link mergeBackfill} does both).
   */
  apply(customers: readonly string[], folds: ReadonlyMap<string, BackfillFold>): Promise<void>;
}

/** Customers whose folds one backfill pass holds at most, by default (EVALUATOR_BACKFILL_MAX_CUSTOMERS; about 1.8 KB of heap each, BENCHMARKS.md). */
export const DEFAULT_BACKFILL_MAX_CUSTOMERS = 100_000;

export interface BackfillOptions {
  /** The switch's time (epoch ms). */
  readonly at: number;
  /** How far an event's time may be ahead of its record's time (ingest's INGEST_MAX_FUTURE_SKEW); default 0. */
  readonly futureSkewMs?: number;
  /**
   * At most this many customers' folds in memory at once. A pass that would hold more
   * splits its shard in two, keeps folding the half it is in (whose folds are complete so
   * far) and leaves the other half to a later pass, which reads the history again. So
   * memory is bounded by this, whatever the partition's size; the price of a small bound is
   * one more read of the history per split.
   */
  readonly maxCustomers: number;
  /** After each pass: which shard it folded, how many customers it held. */
  readonly onPass?: (pass: { shard: Shard; customers: number }) => void;
}

export interface BackfillRun<R> {
  /** The reach of the pass that reached least far back (the retention may move between passes). */
  readonly reach: R;
  readonly passes: number;
  /** The most folds held at once. */
  readonly peakCustomers: number;
  /** Where the history was read from ({@link backfillSince}; null: the log start). */
  readonly sinceMs: number | null;
  /** The oldest clock of the partition's stored customers (undefined: none, or a lifetime plan, which reads all). */
  readonly oldestClock: number | undefined;
}

/** Shards are never split past this: ids colliding in this many hash bits go over the bound rather than loop. */
const MAX_SHARDS = 1 << 20;

/**
 * A backfill of one partition in passes of bounded memory (see {@link BackfillOptions}):
 * a first scan finds the oldest customer clock (where the history must start, see
 * {@link backfillSince}); then each pass reads the whole history folding only its shard's customers
 * ({@link foldHistory}), then scans the stored customers and applies the folds of those in
 * the shard. Applying replaces the keys' data, so a run cut short (a crash) and run again
 * gives the same states. The folds of a customer are those of live processing, since a
 * customer's events are folded in log order within one pass.
 */
export async function runBackfill<R extends { readonly since: number }>(io: BackfillIo<R>, rules: CompiledRules, plan: BackfillPlan, opts: BackfillOptions): Promise<BackfillRun<R>> {
  if (!(opts.maxCustomers >= 1)) throw new RangeError(`maxCustomers must be at least 1, got ${opts.maxCustomers}`);
  const keys = plan.keys;
  // Where the history starts: one window before the oldest customer clock (a first scan).
  let oldestClock: number | undefined;
  if (plan.historyMs !== null) {
    let cursor = '0';
    do {
      const page = await io.scanCustomers(cursor);
      cursor = page.cursor;
      if (page.customers.length) for (const c of await io.clocks(page.customers)) if (oldestClock === undefined || c < oldestClock) oldestClock = c;
    } while (cursor !== '0');
  }
  const sinceMs = backfillSince(plan, opts.at, oldestClock, opts.futureSkewMs ?? 0);
  const todo: Shard[] = [{ index: 0, of: 1 }];
  let reach: R | undefined;
  let passes = 0;
  let peak = 0;
  for (let shard = todo.pop(); shard; shard = todo.pop()) {
    let current: Shard = shard;
    const folds = new Map<string, BackfillFold>();
    const keep = (id: string) => inShard(id, current);
    const got = await io.readHistory(sinceMs, keep, (events) => {
      const byCustomer = new Map<string, EngineEvent[]>();
      for (const e of events) {
        if (!keep(e.customerId)) continue;
        const list = byCustomer.get(e.customerId);
        if (list) list.push(e);
        else byCustomer.set(e.customerId, [e]);
      }
      for (const [id, list] of byCustomer) {
        if (!keep(id)) continue; // its half was left for later by a split in this batch
        folds.set(id, foldHistory(folds.get(id), list, rules, keys));
        if (folds.size > opts.maxCustomers && current.of < MAX_SHARDS) {
          // Split: keep the lower half (its folds are whole so far), leave the upper half for later.
          todo.push({ index: current.index + current.of, of: current.of * 2 });
          current = { index: current.index, of: current.of * 2 };
          for (const held of folds.keys()) if (!inShard(held, current)) folds.delete(held);
        }
      }
      peak = Math.max(peak, folds.size);
    });
    passes++;
    if (reach === undefined || got.since > reach.since) reach = got;
    let cursor = '0';
    do {
      const page = await io.scanCustomers(cursor);
      cursor = page.cursor;
      const mine = [...new Set(page.customers)].filter(keep);
      if (mine.length) await io.apply(mine, folds);
    } while (cursor !== '0');
    opts.onPass?.({ shard: current, customers: folds.size });
  }
  return { reach: reach!, passes, peakCustomers: peak, sinceMs, oldestClock };
}
