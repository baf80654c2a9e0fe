import { createHash, createHmac } from 'node:crypto';

/**
 * An e-mail address anywhere in the text, also percent-encoded (`jane%40example.com`):
 * local part, `@`, a domain with at least one dot and a letter-only top level.
 */
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/i;
/**
 * An international phone number (E.164: `+`, 8–15 digits, optionally split by `-`, `.`,
 * `(`, `)`), or a `tel:` URI. Plain digit runs are not taken for phone numbers: order
 * numbers, timestamps and counters are digit runs too, and an id is not personal data
 * just for being numeric.
 */
const PHONE = /\+\d(?:[-.()]*\d){7,14}(?!\d)|tel:/i;

/** What an id looks like it carries, or undefined when it looks like an ordinary id. */
export type PersonalKind = 'email' | 'phone';

/** Classifies an id: does it carry an e-mail address or an international phone number? */
export function personalKindOf(id: string): PersonalKind | undefined {
  if (EMAIL.test(id)) return 'email';
  if (PHONE.test(id)) return 'phone';
  return undefined;
}

/** Prefix of a pseudonymised event id; never produced by {@link pseudonymousId} for an id that already has it. */
export const PSEUDONYMOUS_ID_PREFIX = 'pii-sha256:';
/** Hex digits of the SHA-256 kept: 128 bits, so two different ids never meet in practice. */
const HASH_HEX_DIGITS = 32;

/**
 * The id that replaces a personal-looking event id: `pii-sha256:` and the first 128 bits
 * of the SHA-256 of the exact original (no normalisation), in hex — an HMAC-SHA-256 with
 * `key` when one is given. Deterministic, so a re-sent event keeps being a duplicate of its
 * first copy; one-way, so the address or number itself goes no further than ingest.
 * Without a key, someone who already knows an address can recompute its hash and so
 * recognise it; with a key kept secret, nobody can.
 *
 * @example pseudonymousId('jane@example.com') // 'pii-sha256:' + 32 hex digits
 */
export function pseudonymousId(id: string, key = ''): string {
  const hash = key ? createHmac('sha256', key) : createHash('sha256');
  return PSEUDONYMOUS_ID_PREFIX + hash.update(id, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
}
