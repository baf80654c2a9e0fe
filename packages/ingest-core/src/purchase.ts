import { CHANNEL_SYMBOLS, type Channel, type LineItem, type Purchase } from '@labelstream/contracts';
import { minorUnitExponent } from './currencies';
import { asInteger, asMoney, asString, INT32_MAX, isObject, jsonType, matchSymbol, optional, required, requireId, requireText, type RawObject } from './fields';
import { convertMinorUnits } from './money';
import type { IngestPolicy } from './policy';
import { reject } from './rejection';

function readItem(v: unknown, path: string, policy: IngestPolicy): LineItem {
  if (!isObject(v)) reject('NOT_AN_OBJECT', path, `must be an object, got ${jsonType(v)}`);
  return {
    sku: requireId(v, 'sku', `${path}.sku`),
    category: requireText(v, 'category', `${path}.category`),
    quantity: asInteger(required(v, 'quantity', `${path}.quantity`), `${path}.quantity`, 1, INT32_MAX),
    unitPriceMinor: asMoney(required(v, 'unitPriceMinor', `${path}.unitPriceMinor`), `${path}.unitPriceMinor`, policy.maxAmountMinor),
  };
}

function readItems(obj: RawObject, policy: IngestPolicy): LineItem[] {
  const v = optional(obj, 'items');
  // Optional: a feed without line items still carries spend; item-based features skip it.
  if (v === undefined) return [];
  if (!Array.isArray(v)) reject('WRONG_TYPE', 'items', `must be an array, got ${jsonType(v)}`);
  if (v.length > policy.maxItems) reject('TOO_MANY_ITEMS', 'items', `has more than ${policy.maxItems} items`);
  return v.map((item: unknown, i) => readItem(item, `items[${i}]`, policy));
}

/**
 * Unknown channels map to OTHER, the schema's catch-all symbol, rather than rejecting:
 * a new sales channel must not make a purchase — and its spend — disappear.
 */
function readChannel(obj: RawObject): Channel {
  const v = optional(obj, 'channel');
  if (v === undefined) return 'OTHER';
  return matchSymbol(asString(v, 'channel'), CHANNEL_SYMBOLS) ?? 'OTHER';
}

function readCurrency(obj: RawObject, policy: IngestPolicy): { currency: string; rate: number } {
  const currency = asString(required(obj, 'currency', 'currency'), 'currency').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !policy.knownCurrencies.has(currency)) {
    reject('UNKNOWN_CURRENCY', 'currency', 'is not an accepted ISO 4217 alphabetic currency code');
  }
  const rate = policy.fxRatesToBase[currency];
  if (rate === undefined) reject('NO_FX_RATE', 'currency', `has no configured exchange rate to ${policy.baseCurrency}`);
  return { currency, rate };
}

/** Validates and normalises the purchase-specific fields of a raw purchase. */
export function readPurchase(obj: RawObject, policy: IngestPolicy): Purchase {
  const orderId = requireId(obj, 'orderId', 'orderId');
  const hint = optional(obj, 'amount') !== undefined ? ' (integer minor units; a decimal "amount" is not accepted)' : '';
  const amountMinor = asMoney(required(obj, 'amountMinor', 'amountMinor', hint), 'amountMinor', policy.maxAmountMinor);
  const { currency, rate } = readCurrency(obj, policy);
  const items = readItems(obj, policy);
  const channel = readChannel(obj);

  if (policy.requireItemsTotalMatch && items.length > 0) {
    const total = items.reduce((sum, it) => sum + BigInt(it.quantity) * BigInt(it.unitPriceMinor), 0n);
    if (total !== BigInt(amountMinor)) {
      reject('AMOUNT_MISMATCH', 'amountMinor', 'differs from the sum of quantity × unitPriceMinor over items');
    }
  }

  // Both exponents exist: compileIngestPolicy only admits currencies in the ISO table.
  const base = convertMinorUnits(amountMinor, minorUnitExponent(currency) ?? 2, rate, minorUnitExponent(policy.baseCurrency) ?? 2);
  if (base > BigInt(policy.maxAmountMinor)) {
    reject('AMOUNT_TOO_LARGE', 'amountMinor', `converted to ${policy.baseCurrency} exceeds ${policy.maxAmountMinor} minor units`);
  }
  return { orderId, amountMinor, currency, amountMinorBase: Number(base), items, channel };
}
