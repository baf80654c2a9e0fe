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
  /** How far back the history must reach for the longest of them, ms; null when one is lifetime (all of it). */
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
    historyMs = historyMs === null || f.windowMs === null ? null : Math.max(historyMs, f.windowMs);
  }
  return keys.size ? { keys, historyMs } : null;
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
