import { NO_LABEL } from '@labelstream/redis-state';
import type { StepDecision } from './customer-steps';

/** A customer's held labels → since, as the engine keeps them (`CustomerState.l`); null for a customer with no stored state. */
export type HeldLabels = Readonly<Record<string, number>> | null;

/**
 * How one customer's commit moves its partition's population counters: +1 for each label it
 * enters, −1 for each it leaves, and the "no label" counter when it moves between holding
 * none and holding some (a customer stored for the first time counts from nothing). Zero
 * entries are left out. Pure.
 */
export function populationDelta(before: HeldLabels, after: Readonly<Record<string, number>>): Map<string, number> {
  const delta = new Map<string, number>();
  let afterCount = 0;
  for (const l in after) {
    afterCount++;
    if (!before || !(l in before)) delta.set(l, 1);
  }
  let beforeCount = 0;
  if (before) {
    for (const l in before) {
      beforeCount++;
      if (!(l in after)) delta.set(l, -1);
    }
  }
  const none = (afterCount === 0 ? 1 : 0) - (before && beforeCount === 0 ? 1 : 0);
  if (none) delta.set(NO_LABEL, none);
  return delta;
}

/**
 * The labels a customer left within `windowMs` of entering them, one entry per such exit,
 * following its decisions in order from the labels it held before (with their since). Pure.
 */
export function flaps(before: HeldLabels, decisions: readonly StepDecision[], windowMs: number): string[] {
  const out: string[] = [];
  if (!decisions.length) return out;
  const since = new Map<string, number>(before ? Object.entries(before) : []);
  for (const d of decisions) {
    for (const c of d.changes) {
      if (c.change === 'ASSIGNED') {
        since.set(c.label, d.effectiveAt);
        continue;
      }
      const entered = since.get(c.label);
      since.delete(c.label);
      if (entered !== undefined && d.effectiveAt - entered < windowMs) out.push(c.label);
    }
  }
  return out;
}
