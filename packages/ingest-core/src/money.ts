/**
 * Currency conversion into the deployment's base currency, in exact integer arithmetic.
 *
 * A rate is "1 major unit of the currency = rate major units of the base currency" (what
 * an FX feed publishes, e.g. EUR→USD 1.08). Converting minor units also rescales between
 * the two currencies' ISO 4217 exponents:
 *
 *   amountMinorBase = round_half_even(amountMinor × rate × 10^(baseExp − currencyExp))
 *
 * The rate is taken in its shortest decimal form (`String(rate)`) and the product is
 * computed with BigInt, so 0.1-style binary float error never decides a rounding.
 * Half-even ("banker's") rounding is unbiased: summing many converted orders — which is
 * exactly what spend features do — does not drift upwards as half-up would.
 */

/** A non-negative decimal as numerator / 10^scale. */
interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const decimalCache = new Map<number, Decimal>();

/** Exact decimal form of a positive finite number's shortest round-trip representation. */
export function toDecimal(rate: number): Decimal {
  const cached = decimalCache.get(rate);
  if (cached) return cached;
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(rate));
  if (!m || !(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`not a non-negative finite rate: ${rate}`);
  const frac = m[2] ?? '';
  const exp = m[3] ? Number(m[3]) : 0;
  let digits = BigInt(`${m[1]}${frac}`);
  let scale = frac.length - exp;
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  const d = { digits, scale };
  if (decimalCache.size < 10_000) decimalCache.set(rate, d); // a rate table is small; bound it anyway
  return d;
}

/** n / d rounded half to even; n ≥ 0, d > 0. */
export function divideHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twiceRemainder = (n % d) * 2n;
  if (twiceRemainder > d || (twiceRemainder === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/**
 * Converts a non-negative integer amount of minor units to base-currency minor units.
 * Returns a bigint so the caller can bound-check before narrowing to a number.
 */
export function convertMinorUnits(amountMinor: number, currencyExponent: number, rate: number, baseExponent: number): bigint {
  const r = toDecimal(rate);
  let numerator = BigInt(amountMinor) * r.digits;
  let denominator = 10n ** BigInt(r.scale);
  const shift = baseExponent - currencyExponent;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  return divideHalfEven(numerator, denominator);
}
