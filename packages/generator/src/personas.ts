import type { Category } from './catalog';
import type { EventKind, RawChannel, RawSupportTicket } from './types';

/** Customer personas; each shapes what a customer does, so label populations are interesting. */
export type PersonaName =
  | 'bargain-hunter'
  | 'big-spender'
  | 'outdoor-enthusiast'
  | 'window-shopper'
  | 'loyal-regular'
  | 'gift-shopper'
  | 'unhappy-customer';

type Weights<K extends string | number> = readonly (readonly [K, number])[];

/** How a persona behaves. Weights are relative; only their ratios matter. */
export interface Persona {
  name: PersonaName;
  /** Share of the customer population. */
  share: number;
  /**
   * Relative propensity per event kind. The overall mix is fixed by the storefront; this
   * decides *who* produces each kind (a window shopper clicks, rarely buys).
   */
  affinity: Readonly<Record<EventKind, number>>;
  /** Multipliers on the catalogue's category weights (missing = 1). */
  categoryBias: Readonly<Partial<Record<Category, number>>>;
  /** -1 (cheapest products) … +1 (dearest products). */
  priceTilt: number;
  /** Mean number of order lines. */
  meanLines: number;
  channels: Weights<RawChannel>;
  priorities: Weights<RawSupportTicket['priority']>;
  /** Probability a resolved ticket carries a CSAT answer. */
  csatResponseRate: number;
  /** Distribution of CSAT scores 1–5. */
  csat: Weights<number>;
}

const DEFAULT_CHANNELS: Weights<RawChannel> = [['web', 45], ['mobile_app', 35], ['store', 12], ['marketplace', 8]];
const DEFAULT_PRIORITIES: Weights<RawSupportTicket['priority']> = [['low', 25], ['normal', 55], ['high', 15], ['urgent', 5]];
/** CSAT skews positive, as it does in practice. */
const HAPPY_CSAT: Weights<number> = [[1, 4], [2, 5], [3, 11], [4, 30], [5, 50]];

/** The persona table. Shares sum to 1. */
export const PERSONAS: readonly Persona[] = Object.freeze([
  {
    name: 'bargain-hunter', share: 0.2,
    affinity: { purchase: 1.2, 'email-click': 1.5, 'support-ticket': 0.8 },
    categoryBias: { grocery: 1.5, fashion: 1.3, electronics: 0.6 },
    priceTilt: -0.9, meanLines: 1.8,
    channels: [['web', 40], ['mobile_app', 30], ['store', 5], ['marketplace', 25]],
    priorities: DEFAULT_PRIORITIES, csatResponseRate: 0.5, csat: [[1, 6], [2, 8], [3, 16], [4, 32], [5, 38]],
  },
  {
    name: 'big-spender', share: 0.06,
    affinity: { purchase: 1.5, 'email-click': 0.5, 'support-ticket': 1.0 },
    categoryBias: { electronics: 2.5, fashion: 1.5, grocery: 0.3, books: 0.5 },
    priceTilt: 0.9, meanLines: 3.5,
    channels: [['web', 35], ['mobile_app', 30], ['store', 30], ['marketplace', 5]],
    priorities: [['low', 15], ['normal', 50], ['high', 28], ['urgent', 7]], csatResponseRate: 0.55, csat: HAPPY_CSAT,
  },
  {
    name: 'outdoor-enthusiast', share: 0.12,
    affinity: { purchase: 1.0, 'email-click': 1.0, 'support-ticket': 0.7 },
    categoryBias: { outdoor: 12, electronics: 0.8, beauty: 0.3, toys: 0.3 },
    priceTilt: 0.3, meanLines: 2.0,
    channels: DEFAULT_CHANNELS, priorities: DEFAULT_PRIORITIES, csatResponseRate: 0.55, csat: HAPPY_CSAT,
  },
  {
    name: 'window-shopper', share: 0.25,
    affinity: { purchase: 0.05, 'email-click': 2.0, 'support-ticket': 0.2 },
    categoryBias: { fashion: 1.5, beauty: 1.5 },
    priceTilt: 0, meanLines: 1.2,
    channels: [['web', 40], ['mobile_app', 55], ['store', 3], ['marketplace', 2]],
    priorities: DEFAULT_PRIORITIES, csatResponseRate: 0.3, csat: HAPPY_CSAT,
  },
  {
    name: 'loyal-regular', share: 0.17,
    affinity: { purchase: 1.6, 'email-click': 0.8, 'support-ticket': 0.6 },
    categoryBias: { grocery: 2, home: 1.5, books: 1.5 },
    priceTilt: 0, meanLines: 2.5,
    channels: DEFAULT_CHANNELS, priorities: DEFAULT_PRIORITIES, csatResponseRate: 0.6, csat: [[1, 2], [2, 3], [3, 8], [4, 32], [5, 55]],
  },
  {
    name: 'gift-shopper', share: 0.1,
    affinity: { purchase: 0.6, 'email-click': 0.7, 'support-ticket': 0.5 },
    categoryBias: { toys: 3, books: 2, beauty: 1.5, grocery: 0.2 },
    priceTilt: 0.2, meanLines: 2.2,
    channels: DEFAULT_CHANNELS, priorities: DEFAULT_PRIORITIES, csatResponseRate: 0.5, csat: HAPPY_CSAT,
  },
  {
    // Files many tickets, often urgent, and rates the resolution badly: feeds "dissatisfied".
    name: 'unhappy-customer', share: 0.1,
    affinity: { purchase: 0.7, 'email-click': 0.4, 'support-ticket': 4.0 },
    categoryBias: { electronics: 1.5 },
    priceTilt: 0, meanLines: 1.6,
    channels: DEFAULT_CHANNELS,
    priorities: [['low', 10], ['normal', 40], ['high', 30], ['urgent', 20]],
    csatResponseRate: 0.8, csat: [[1, 38], [2, 27], [3, 18], [4, 10], [5, 7]],
  },
] satisfies Persona[]);
