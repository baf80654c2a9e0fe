import type { Category } from './catalog';
import type { Rng } from './prng';

/** An email campaign: `cmp-<yyyy>-<mm>-<slug>`, optionally promoting one category. */
export interface Campaign {
  campaignId: string;
  slug: string;
  focus: Category | null;
}

const CAMPAIGNS: readonly (readonly [string, Category | null])[] = [
  ['black-friday', null],
  ['cyber-monday', 'electronics'],
  ['winter-sale', 'fashion'],
  ['new-arrivals', 'fashion'],
  ['outdoor-gear', 'outdoor'],
  ['weekly-digest', null],
  ['loyalty-rewards', null],
  ['back-in-stock', 'home'],
  ['gift-guide', 'toys'],
  ['flash-sale', null],
  ['reading-list', 'books'],
  ['beauty-edit', 'beauty'],
  ['pantry-restock', 'grocery'],
];

/** Starts a new campaign at `now`, never repeating the previous slug back to back. */
export function nextCampaign(now: number, previous: Campaign | null, rng: Rng): Campaign {
  let entry = rng.pick(CAMPAIGNS);
  while (previous && entry[0] === previous.slug) entry = rng.pick(CAMPAIGNS);
  const month = new Date(now).toISOString().slice(0, 7); // yyyy-mm
  return { campaignId: `cmp-${month}-${entry[0]}`, slug: entry[0], focus: entry[1] };
}

/**
 * Email share inside a send burst and outside it, such that a whole cycle averages to
 * `share`: bursts get 1.4× the share (capped at 1); the rest of the cycle makes up.
 */
export function burstShares(share: number, burstFraction: number): { inBurst: number; outside: number } {
  const inBurst = Math.min(1, share * 1.4);
  return { inBurst, outside: Math.max(0, (share - burstFraction * inBurst) / (1 - burstFraction)) };
}
