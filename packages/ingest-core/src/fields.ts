import { reject } from './rejection';

/** A JSON object (or an Avro record decoded by avsc) as read by the validators. */
export type RawObject = Readonly<Record<string, unknown>>;

/** Printable ASCII without space: what ids may contain (they end up in Redis keys and logs). */
const ID_CHARS = /^[\x21-\x7E]+$/;
/** Control characters and lone surrogates (which UTF-8 encoding would silently replace). */
const CONTROL_OR_SURROGATE = /[\p{Cc}\p{Cs}]/u;

export const MAX_ID_LENGTH = 128;
export const MAX_TEXT_LENGTH = 128;
export const MAX_LINK_LENGTH = 2048;
export const INT32_MAX = 2_147_483_647;

/** `base.name`, or `name` at the root. */
export function join(base: string, name: string): string {
  return base ? `${base}.${name}` : name;
}

export function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof Date);
}

/** An own property, with null read as absent (Avro optional fields decode to null). */
export function optional(obj: RawObject, name: string): unknown {
  const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
  return v === null ? undefined : v;
}

export function required(obj: RawObject, name: string, path: string, hint = ''): unknown {
  const v = optional(obj, name);
  if (v === undefined) reject('MISSING_FIELD', path, `is required${hint}`);
  return v;
}

export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

export function asString(v: unknown, path: string): string {
  if (typeof v !== 'string') reject('WRONG_TYPE', path, `must be a string, got ${jsonType(v)}`);
  return v;
}

/** Checks the id rule (1–max printable ASCII, no spaces) without saying what the value was. */
export function isValidId(v: string, max = MAX_ID_LENGTH): boolean {
  return v.length >= 1 && v.length <= max && ID_CHARS.test(v);
}

export function requireId(obj: RawObject, name: string, path: string): string {
  const v = asString(required(obj, name, path), path);
  if (!isValidId(v)) reject('INVALID_ID', path, `must be 1–${MAX_ID_LENGTH} printable ASCII characters without spaces`);
  return v;
}

/** Free text (a category): trimmed, 1–128 characters, no control characters. */
export function requireText(obj: RawObject, name: string, path: string): string {
  const v = asString(required(obj, name, path), path).trim();
  if (v.length < 1 || v.length > MAX_TEXT_LENGTH || CONTROL_OR_SURROGATE.test(v)) {
    reject('INVALID_TEXT', path, `must be 1–${MAX_TEXT_LENGTH} characters after trimming, without control characters`);
  }
  return v;
}

/** An integer in [min, max]: WRONG_TYPE if not an integer number, OUT_OF_RANGE if outside. */
export function asInteger(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) reject('WRONG_TYPE', path, `must be an integer, got ${Number.isFinite(v) ? 'a fraction' : jsonType(v)}`);
  if (v < min || v > max) reject('OUT_OF_RANGE', path, `must be from ${min} to ${max}`);
  return v;
}

/** An amount of integer minor units in [0, maxMinor]. */
export function asMoney(v: unknown, path: string, maxMinor: number): number {
  if (typeof v !== 'number') {
    const hint = typeof v === 'string' ? ' (send integer minor units as a JSON number, e.g. 1250 for 12.50)' : '';
    reject('WRONG_TYPE', path, `must be a number, got ${jsonType(v)}${hint}`);
  }
  if (!Number.isFinite(v)) reject('NON_FINITE_AMOUNT', path, 'must be finite');
  if (v < 0) reject('NEGATIVE_AMOUNT', path, 'must not be negative');
  if (!Number.isInteger(v)) reject('AMOUNT_NOT_INTEGER', path, 'must be an integer number of minor units (e.g. 1250 for 12.50)');
  if (v > maxMinor) reject('AMOUNT_TOO_LARGE', path, `must be at most ${maxMinor} minor units`);
  return v;
}

/**
 * Matches a string case-insensitively against enum symbols, with `-` and spaces read as
 * `_` (so `mobile-app` is MOBILE_APP). Returns undefined when nothing matches.
 */
export function matchSymbol<T extends string>(value: string, symbols: readonly T[]): T | undefined {
  const key = value.trim().toUpperCase().replace(/[\s-]+/g, '_');
  return symbols.find((s) => s === key);
}
