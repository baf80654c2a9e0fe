import { DEFAULT_MAX_FUTURE_SKEW_MS } from '@labelstream/contracts';
import { ISO_4217_MINOR_UNITS, minorUnitExponent } from './currencies';
import { InvalidIngestPolicyError, type PolicyIssue } from './errors';

/**
 * The compiled rules a raw message is checked against. Build one with
 * {@link compileIngestPolicy}, once at start-up, and pass it to every normalise call.
 */
export interface IngestPolicy {
  /** Largest accepted raw value in bytes, checked before any parsing. */
  readonly maxMessageBytes: number;
  /** Events whose occurredAt is older than `now - maxLatenessMs` are rejected (TIMESTAMP_TOO_OLD). Keep it no larger than the evaluator's allowed lateness. */
  readonly maxLatenessMs: number;
  /** Events whose occurredAt is later than `now + maxFutureSkewMs` are rejected (TIMESTAMP_IN_FUTURE). */
  readonly maxFutureSkewMs: number;
  /** customerId must match this (non-global, non-sticky) pattern in full. */
  readonly customerIdPattern: RegExp;
  /** ISO 4217 code every purchase is converted to (`amountMinorBase`). */
  readonly baseCurrency: string;
  /**
   * Upper-case currency code → major-unit rate to the base currency: 1 unit of the
   * currency = rate units of the base (EUR: 1.08 when the base is USD). Minor-unit
   * exponents are applied by ingest. The base currency's own rate is always 1.
   */
  readonly fxRatesToBase: Readonly<Record<string, number>>;
  /** Upper-case ISO 4217 codes accepted in `currency` (default: all of ISO_4217_MINOR_UNITS). */
  readonly knownCurrencies: ReadonlySet<string>;
  /** Largest accepted money amount in minor units, for amountMinor, unitPriceMinor and amountMinorBase. */
  readonly maxAmountMinor: number;
  /** Largest accepted number of line items in one purchase. */
  readonly maxItems: number;
  /** Deepest nesting of JSON arrays and objects accepted in a raw value (checked before parsing). */
  readonly maxJsonDepth: number;
  /**
   * When eventId is absent, use `<topic>:<partition>:<offset>` of the raw message instead
   * of rejecting it. Replays of the same raw record keep the same id (so the evaluator's
   * dedupe still holds), but a producer that re-sends an event as a *new* record gets it
   * counted twice — prefer producer-assigned ids.
   */
  readonly deriveMissingEventId: boolean;
  /**
   * Reject purchases whose amountMinor differs from Σ quantity × unitPriceMinor
   * (AMOUNT_MISMATCH). Off by default: order totals usually include tax, shipping and
   * discounts that line items do not carry, so a mismatch is normal, not an error.
   */
  readonly requireItemsTotalMatch: boolean;
  /**
   * Key of the HMAC that replaces an event id carrying an e-mail address or phone number
   * (`pii-sha256:…`); empty: a plain SHA-256, which whoever knows the address can
   * recompute. Changing it changes those ids, so a copy re-sent across the change is no
   * longer recognised as a duplicate. A secret: never log it.
   */
  readonly eventIdHashKey: string;
}

/** Options for {@link compileIngestPolicy}; every field is optional and defaults to {@link DEFAULT_INGEST_POLICY}. */
export type IngestPolicyOptions = {
  readonly [K in keyof IngestPolicy]?: K extends 'knownCurrencies' ? Iterable<string> : IngestPolicy[K];
};

/** Default customer id pattern: 1–128 characters, starting alphanumeric, then `A-Za-z0-9_.:-`. */
export const DEFAULT_CUSTOMER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const DAY_MS = 86_400_000;

/**
 * The defaults: 1 MiB messages, 7 days of lateness, 5 minutes of clock skew, base USD with
 * no other rates (so only USD purchases are accepted until rates are configured), every
 * ISO 4217 currency known, amounts up to 10^13 minor units, 1000 line items.
 */
export const DEFAULT_INGEST_POLICY: IngestPolicy = Object.freeze({
  maxMessageBytes: 1_048_576,
  maxLatenessMs: 7 * DAY_MS,
  maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS,
  customerIdPattern: DEFAULT_CUSTOMER_ID_PATTERN,
  baseCurrency: 'USD',
  fxRatesToBase: Object.freeze({}),
  knownCurrencies: Object.freeze(new Set(Object.keys(ISO_4217_MINOR_UNITS))) as ReadonlySet<string>,
  maxAmountMinor: 10_000_000_000_000,
  maxItems: 1000,
  maxJsonDepth: 32,
  deriveMissingEventId: false,
  requireItemsTotalMatch: false,
  eventIdHashKey: '',
});

function positiveInteger(issues: PolicyIssue[], option: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    issues.push({ option, message: `must be an integer from 1 to ${max}` });
  }
}

/**
 * Fills defaults, upper-cases currency codes, and checks the result; throws
 * {@link InvalidIngestPolicyError} listing every problem. The returned policy is frozen.
 *
 * @example
 * const policy = compileIngestPolicy({ baseCurrency: 'EUR', fxRatesToBase: { USD: 0.92, JPY: 0.0062 } });
 */
export function compileIngestPolicy(options: IngestPolicyOptions = {}): IngestPolicy {
  const d = DEFAULT_INGEST_POLICY;
  const issues: PolicyIssue[] = [];
  const baseCurrency = (options.baseCurrency ?? d.baseCurrency).toUpperCase();
  const knownCurrencies = new Set([...(options.knownCurrencies ?? d.knownCurrencies)].map((c) => c.toUpperCase()));
  const fxRatesToBase: Record<string, number> = { [baseCurrency]: 1 };

  for (const c of knownCurrencies) {
    if (minorUnitExponent(c) === undefined) issues.push({ option: 'knownCurrencies', message: `${c} is not an ISO 4217 currency with minor units` });
  }
  if (!knownCurrencies.has(baseCurrency)) issues.push({ option: 'baseCurrency', message: `${baseCurrency} must be a known currency` });
  for (const [code, rate] of Object.entries(options.fxRatesToBase ?? d.fxRatesToBase)) {
    const c = code.toUpperCase();
    const option = `fxRatesToBase.${code}`;
    if (!knownCurrencies.has(c)) issues.push({ option, message: 'not a known currency' });
    else if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) issues.push({ option, message: 'must be a positive finite number' });
    else if (c === baseCurrency && rate !== 1) issues.push({ option, message: 'the base currency rate must be 1' });
    else fxRatesToBase[c] = rate;
  }

  const policy: IngestPolicy = {
    maxMessageBytes: options.maxMessageBytes ?? d.maxMessageBytes,
    maxLatenessMs: options.maxLatenessMs ?? d.maxLatenessMs,
    maxFutureSkewMs: options.maxFutureSkewMs ?? d.maxFutureSkewMs,
    customerIdPattern: options.customerIdPattern ?? d.customerIdPattern,
    baseCurrency,
    fxRatesToBase: Object.freeze(fxRatesToBase),
    knownCurrencies: Object.freeze(knownCurrencies),
    maxAmountMinor: options.maxAmountMinor ?? d.maxAmountMinor,
    maxItems: options.maxItems ?? d.maxItems,
    maxJsonDepth: options.maxJsonDepth ?? d.maxJsonDepth,
    deriveMissingEventId: options.deriveMissingEventId ?? d.deriveMissingEventId,
    requireItemsTotalMatch: options.requireItemsTotalMatch ?? d.requireItemsTotalMatch,
    eventIdHashKey: options.eventIdHashKey ?? d.eventIdHashKey,
  };

  positiveInteger(issues, 'maxMessageBytes', policy.maxMessageBytes);
  positiveInteger(issues, 'maxLatenessMs', policy.maxLatenessMs);
  if (!Number.isSafeInteger(policy.maxFutureSkewMs) || policy.maxFutureSkewMs < 0) {
    issues.push({ option: 'maxFutureSkewMs', message: 'must be a non-negative integer' });
  }
  positiveInteger(issues, 'maxAmountMinor', policy.maxAmountMinor);
  // Avro `int` bounds the array length we could ever encode; keep far below it.
  positiveInteger(issues, 'maxItems', policy.maxItems, 100_000);
  positiveInteger(issues, 'maxJsonDepth', policy.maxJsonDepth, 10_000);
  if (policy.customerIdPattern.global || policy.customerIdPattern.sticky) {
    // RegExp.test on a g/y regex is stateful (lastIndex): alternate calls would disagree.
    issues.push({ option: 'customerIdPattern', message: 'must not use the g or y flag' });
  }
  if (issues.length > 0) throw new InvalidIngestPolicyError(issues);
  return Object.freeze(policy);
}
