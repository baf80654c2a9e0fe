import type { Rng } from './prng';

/** Product categories the demo store sells. */
export type Category = 'outdoor' | 'electronics' | 'home' | 'fashion' | 'beauty' | 'books' | 'toys' | 'grocery';

interface CategorySpec {
  /** Three-letter code used in SKUs. */
  code: string;
  /** Baseline share of order lines. */
  weight: number;
  /** Median unit price in EUR cents and log-space spread: electronics are dear and varied, groceries cheap. */
  medianEurCents: number;
  sigma: number;
  /** Largest quantity on one line (people buy six yoghurts, not six televisions). */
  maxQuantity: number;
}

/** The category table: weights shape the catalogue, prices shape spend labels. */
export const CATEGORIES: Readonly<Record<Category, CategorySpec>> = Object.freeze({
  outdoor: { code: 'OUT', weight: 10, medianEurCents: 4500, sigma: 0.8, maxQuantity: 3 },
  electronics: { code: 'ELC', weight: 12, medianEurCents: 12000, sigma: 1.0, maxQuantity: 2 },
  home: { code: 'HOM', weight: 14, medianEurCents: 3000, sigma: 0.8, maxQuantity: 4 },
  fashion: { code: 'FSH', weight: 18, medianEurCents: 4000, sigma: 0.7, maxQuantity: 3 },
  beauty: { code: 'BTY', weight: 10, medianEurCents: 1800, sigma: 0.6, maxQuantity: 4 },
  books: { code: 'BKS', weight: 10, medianEurCents: 1500, sigma: 0.4, maxQuantity: 3 },
  toys: { code: 'TOY', weight: 8, medianEurCents: 2500, sigma: 0.7, maxQuantity: 3 },
  grocery: { code: 'GRO', weight: 18, medianEurCents: 500, sigma: 0.6, maxQuantity: 6 },
});

/** All categories, in table order. */
export const CATEGORY_NAMES = Object.freeze(Object.keys(CATEGORIES) as Category[]);

/** One product: a stable SKU and its list price in EUR cents. */
export interface Product {
  sku: string;
  category: Category;
  eurCents: number;
}

/** Products per category; enough for variety, few enough that SKUs repeat across orders. */
const PRODUCTS_PER_CATEGORY = 120;

/** A catalogue: per category, products sorted by ascending price (so price tilt is an index bias). */
export type Catalog = Readonly<Record<Category, readonly Product[]>>;

/** Builds the catalogue from the set-up random stream; the same seed gives the same prices. */
export function buildCatalog(rng: Rng): Catalog {
  const out = {} as Record<Category, Product[]>;
  for (const category of CATEGORY_NAMES) {
    const spec = CATEGORIES[category];
    const products: Product[] = [];
    for (let i = 1; i <= PRODUCTS_PER_CATEGORY; i++) {
      const cents = Math.min(250_000, Math.max(99, rng.logNormal(spec.medianEurCents, spec.sigma)));
      products.push({ sku: `SKU-${spec.code}-${String(i).padStart(4, '0')}`, category, eurCents: charm(cents, 2) });
    }
    products.sort((x, y) => x.eurCents - y.eurCents);
    out[category] = products;
  }
  return out;
}

/**
 * Picks a product of a category. `tilt` in [-1, 1] biases towards the cheap (negative)
 * or dear (positive) end of the range; 0 picks uniformly.
 */
export function pickProduct(catalog: Catalog, category: Category, tilt: number, rng: Rng): Product {
  const products = catalog[category];
  const u = rng.float();
  const bias = u ** (1 + 2 * Math.abs(tilt));
  const position = tilt < 0 ? bias : tilt > 0 ? 1 - bias : u;
  return products[Math.min(products.length - 1, Math.floor(position * products.length))] as Product;
}

interface CurrencySpec {
  /** Share of customers whose home currency this is. */
  weight: number;
  /** Minor digits per ISO 4217 (JPY has none). */
  minorDigits: number;
  /** Units of this currency per euro: a fixed demo rate, not a market quote. */
  perEur: number;
}

/** Currencies: mostly EUR/USD/GBP, some JPY (no minor unit) and a few CHF/SEK. */
export const CURRENCIES: Readonly<Record<string, CurrencySpec>> = Object.freeze({
  EUR: { weight: 45, minorDigits: 2, perEur: 1 },
  USD: { weight: 25, minorDigits: 2, perEur: 1.08 },
  GBP: { weight: 15, minorDigits: 2, perEur: 0.85 },
  JPY: { weight: 8, minorDigits: 0, perEur: 160 },
  CHF: { weight: 4, minorDigits: 2, perEur: 0.95 },
  SEK: { weight: 3, minorDigits: 2, perEur: 11.4 },
});

/** Currency codes with their weights, for {@link Rng.weighted}. */
export const CURRENCY_WEIGHTS: readonly (readonly [string, number])[] = Object.freeze(
  Object.entries(CURRENCIES).map(([code, spec]) => [code, spec.weight] as const),
);

/** Converts a EUR-cent list price into a shelf price in `currency`'s minor units. */
export function priceIn(eurCents: number, currency: string): number {
  const spec = CURRENCIES[currency] ?? CURRENCIES.EUR!;
  const minor = (eurCents / 100) * spec.perEur * 10 ** spec.minorDigits;
  return charm(minor, spec.minorDigits);
}

/**
 * Shelf-price rounding: x.99 for currencies with cents, tens of yen for JPY — so prices
 * look like prices and sums are exact integers.
 */
function charm(minor: number, minorDigits: number): number {
  if (minorDigits === 0) return Math.max(100, Math.round(minor / 10) * 10);
  return Math.max(99, Math.ceil(minor / 100) * 100 - 1);
}
