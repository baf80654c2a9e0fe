import { CURRENCY_WEIGHTS } from './catalog';
import { PERSONAS, type Persona } from './personas';
import type { Rng } from './prng';

/** One simulated customer. */
export interface CustomerProfile {
  /** `c-` + zero-padded number, e.g. `c-000042`. */
  customerId: string;
  persona: Persona;
  /** Home currency (ISO 4217). */
  currency: string;
  /** Zipf activity rank (1 = most active). */
  rank: number;
  /** Relative activity weight, 1 / rank^skew. */
  activity: number;
  /** When the customer stops all activity (epoch ms), or null if never. */
  quietAt: number | null;
  /** Personal data that leaks into a few raw email clicks (example.com addresses only). */
  firstName: string;
  lastName: string;
}

const FIRST_NAMES = ['Jane', 'John', 'Amira', 'Lukas', 'Sofia', 'Kenji', 'Olivia', 'Mateo', 'Chloe', 'Noah', 'Ingrid', 'Ravi', 'Elena', 'Tom', 'Yuki', 'Fatima', 'Oskar', 'Grace', 'Pierre', 'Lena'];
const LAST_NAMES = ['Doe', 'Smith', 'Müller', 'Rossi', 'Tanaka', 'García', 'Johansson', 'Dubois', 'Kowalski', 'Nguyen', 'Brown', 'Schmidt', 'Okafor', 'Silva', 'Novak', 'Larsen'];

/** Formats a customer number: `c-` + at least six digits. */
export function customerIdFor(n: number, width = 6): string {
  return `c-${String(n).padStart(width, '0')}`;
}

export interface PopulationConfig {
  customers: number;
  activitySkew: number;
  quietRatio: number;
  quietAfterMs: { min: number; max: number };
  startAt: number;
}

/**
 * Builds the customer population. Activity ranks are a random permutation, so the busiest
 * customers are scattered over the id range rather than being c-000001, c-000002, ….
 */
export function buildPopulation(config: PopulationConfig, rng: Rng): CustomerProfile[] {
  const n = config.customers;
  const width = Math.max(6, String(n).length);
  const ranks = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = ranks[i] as number;
    ranks[i] = ranks[j] as number;
    ranks[j] = t;
  }
  const personaWeights = PERSONAS.map((p) => [p, p.share] as const);
  const { min, max } = config.quietAfterMs;
  const customers: CustomerProfile[] = ranks.map((rank, i) => ({
    customerId: customerIdFor(i + 1, width),
    persona: rng.weighted(personaWeights),
    currency: rng.weighted(CURRENCY_WEIGHTS),
    rank,
    activity: 1 / rank ** config.activitySkew,
    quietAt: rng.chance(config.quietRatio) ? config.startAt + Math.round(min + rng.float() * (max - min)) : null,
    firstName: rng.pick(FIRST_NAMES),
    lastName: rng.pick(LAST_NAMES),
  }));
  // Keep the store alive: in a tiny population every customer could draw "quiet".
  if (customers.every((c) => c.quietAt !== null)) (customers[n - 1] as CustomerProfile).quietAt = null;
  return customers;
}

/**
 * Samples an index with probability proportional to its weight, in O(log n) by binary
 * search over cumulative sums (the population can be a million customers).
 */
export class WeightedSampler {
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i] as number;
      this.cumulative[i] = sum;
    }
  }

  /** Index for a uniform `u` in [0, 1). */
  sample(u: number): number {
    const c = this.cumulative;
    const target = u * (c[c.length - 1] as number);
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((c[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
