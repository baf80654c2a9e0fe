import { DEFAULT_TOPICS } from '@labelstream/contracts';
import { InvalidGeneratorOptionError } from './errors';
import type { StorefrontTopics } from './types';

/** Share of each event kind over a long run (burst cycles average out to this). */
export interface EventMix {
  purchase: number;
  emailClick: number;
  supportTicket: number;
}

/** Options of {@link createStorefront}. Only `seed` and `startAt` are required. */
export interface StorefrontOptions {
  /** Seed of the PRNG: same seed and same `now` sequence → byte-identical messages. */
  seed: number;
  /** When the simulation starts (epoch ms); quiet customers go quiet relative to it. */
  startAt: number;
  /** Number of customers, `c-000001` … (default 1000). */
  customers?: number;
  /** Fraction of messages that are malformed (default 0.005). */
  malformedRatio?: number;
  /** Fraction of customers who stop all activity after a while (default 0.2; below 1). */
  quietRatio?: number;
  /**
   * When quiet customers stop, as a range after `startAt` (default 60 s – 5 min, so a
   * demo run shows customers becoming inactive); each quiet customer draws a time in it.
   */
  quietAfterMs?: { min: number; max: number };
  /** Zipf exponent of per-customer activity (default 1.1: a few customers are very active). */
  activitySkew?: number;
  /** Fraction of events whose `occurredAt` is seconds to minutes in the past (default 0.03). */
  lateRatio?: number;
  /** Largest ordinary delay of `occurredAt` behind `now`, in ms (default 250). */
  maxJitterMs?: number;
  /** Event mix (default 25 % purchases, 60 % email clicks, 15 % support tickets). */
  mix?: Partial<EventMix>;
  /** Events per email campaign cycle; the first quarter of each cycle is the send burst (default 2000). */
  campaignCycleEvents?: number;
  /** Fraction of email clicks carrying personal fields (`email`, `customerName`) that ingest must drop (default 0.05). */
  personalDataRatio?: number;
  /** Let the stream include the rare > 1 MiB `oversize` malformation (default false). */
  includeOversize?: boolean;
  /** Raw topic names (default: the `storefront.*` names from @labelstream/contracts). */
  topics?: Partial<StorefrontTopics>;
}

/** Options with every default filled in and checked. */
export type CompiledStorefrontOptions = Required<Omit<StorefrontOptions, 'mix' | 'topics'>> & {
  mix: EventMix;
  topics: StorefrontTopics;
};

/** Defaults of every optional {@link StorefrontOptions} field. */
export const STOREFRONT_DEFAULTS = Object.freeze({
  customers: 1000,
  malformedRatio: 0.005,
  quietRatio: 0.2,
  quietAfterMs: Object.freeze({ min: 60_000, max: 300_000 }),
  activitySkew: 1.1,
  lateRatio: 0.03,
  maxJitterMs: 250,
  mix: Object.freeze({ purchase: 0.25, emailClick: 0.6, supportTicket: 0.15 }),
  campaignCycleEvents: 2000,
  personalDataRatio: 0.05,
  includeOversize: false,
});

/** The default raw topic names. */
export const DEFAULT_STOREFRONT_TOPICS: Readonly<StorefrontTopics> = Object.freeze({
  purchases: DEFAULT_TOPICS.purchases,
  emailClicks: DEFAULT_TOPICS.emailClicks,
  supportTickets: DEFAULT_TOPICS.supportTickets,
});

function ratio(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new InvalidGeneratorOptionError(name, value, 'a number in [0, 1]');
  return value;
}

/** Below 1: a store where everyone goes quiet has nobody left to generate events for. */
function quietRatio(value: number): number {
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new InvalidGeneratorOptionError('quietRatio', value, 'a number in [0, 1)');
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidGeneratorOptionError(name, value, 'a finite number ≥ 0');
  return value;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidGeneratorOptionError(name, value, 'an integer ≥ 1');
  return value;
}

/** Fills defaults and validates; throws {@link InvalidGeneratorOptionError} naming the option. */
export function compileStorefrontOptions(options: StorefrontOptions): CompiledStorefrontOptions {
  const d = STOREFRONT_DEFAULTS;
  if (!Number.isFinite(options.seed)) throw new InvalidGeneratorOptionError('seed', options.seed, 'a finite number');
  if (!Number.isFinite(options.startAt)) throw new InvalidGeneratorOptionError('startAt', options.startAt, 'epoch milliseconds');
  const quiet = options.quietAfterMs ?? d.quietAfterMs;
  nonNegative('quietAfterMs.min', quiet.min);
  if (!(nonNegative('quietAfterMs.max', quiet.max) >= quiet.min)) {
    throw new InvalidGeneratorOptionError('quietAfterMs.max', quiet.max, '≥ quietAfterMs.min');
  }
  const mix: EventMix = { ...d.mix, ...options.mix };
  const total = nonNegative('mix.purchase', mix.purchase) + nonNegative('mix.emailClick', mix.emailClick) + nonNegative('mix.supportTicket', mix.supportTicket);
  if (!(total > 0)) throw new InvalidGeneratorOptionError('mix', JSON.stringify(mix), 'weights with a positive sum');
  const topics: StorefrontTopics = { ...DEFAULT_STOREFRONT_TOPICS, ...options.topics };
  for (const [role, name] of Object.entries(topics)) {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidGeneratorOptionError(`topics.${role}`, name, 'a topic name');
  }
  return {
    seed: Math.trunc(options.seed),
    startAt: options.startAt,
    customers: positiveInt('customers', options.customers ?? d.customers),
    malformedRatio: ratio('malformedRatio', options.malformedRatio ?? d.malformedRatio),
    quietRatio: quietRatio(options.quietRatio ?? d.quietRatio),
    quietAfterMs: { min: quiet.min, max: quiet.max },
    activitySkew: nonNegative('activitySkew', options.activitySkew ?? d.activitySkew),
    lateRatio: ratio('lateRatio', options.lateRatio ?? d.lateRatio),
    maxJitterMs: nonNegative('maxJitterMs', options.maxJitterMs ?? d.maxJitterMs),
    mix: { purchase: mix.purchase / total, emailClick: mix.emailClick / total, supportTicket: mix.supportTicket / total },
    campaignCycleEvents: positiveInt('campaignCycleEvents', options.campaignCycleEvents ?? d.campaignCycleEvents),
    personalDataRatio: ratio('personalDataRatio', options.personalDataRatio ?? d.personalDataRatio),
    includeOversize: options.includeOversize ?? d.includeOversize,
    topics,
  };
}

/** The topic a kind is produced to. */
export function topicFor(topics: StorefrontTopics, kind: 'purchase' | 'email-click' | 'support-ticket'): string {
  return kind === 'purchase' ? topics.purchases : kind === 'email-click' ? topics.emailClicks : topics.supportTickets;
}
