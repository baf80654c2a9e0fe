import { stdSerializers } from 'pino';

/**
 * Personal-data scrubbing for log records. Two layers, because a log line is forever:
 *  1. any property whose key names personal data or a secret is replaced, at any depth;
 *  2. any string value (and the message) that contains an e-mail address, a phone-like
 *     number or a URL with a password has it masked, wherever it came from (an error
 *     message quoting input or a connection string, say).
 * Errors keep what a reader needs to debug — class, message, stack, code, context and
 * the whole cause chain — passed through the same two layers.
 *
 * Key names are matched at any depth rather than through pino's `redact` paths: those
 * name fixed locations (one `*` per level, no "anywhere below"), and personal data comes
 * nested at depths no list foresees (an error's context, a decoded payload).
 */
const SENSITIVE_KEY =
  /^(e-?mail(_?address)?|phone(_?number)?|mobile|msisdn|(first|last|full|customer|display|given|family)_?name|address|street|postcode|post_?code|zip(_?code)?|ip(_?address)?|password|passwd|secret|token|api_?key|authorization|cookie|sasl)$/i;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** The password in a URL's user info (rediss://user:password@host): a connection string quoted in an error. */
const URL_PASSWORD = /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/@]+@/g;
const PHONE = /\+?\d[\d ()-]{7,}\d/g;

export const REDACTED = '[REDACTED]';

/** True when a property of this name must never be logged. */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** Masks URL passwords, e-mail addresses and phone-like digit runs inside free text. */
export function scrubText(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(EMAIL, '[EMAIL]').replace(PHONE, (m) => (m.replace(/\D/g, '').length >= 9 ? '[PHONE]' : m));
}

/** Returns a deep copy of `value` with sensitive keys and personal text removed. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[DEPTH]';
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return serializeError(value, depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSensitiveKey(k) ? REDACTED : scrub(v, depth + 1);
  return out;
}

/**
 * An error as a log record holds it: pino's `errWithCause` serializer (`type` is the
 * class, then `message`, `stack`, own properties such as `code` and `context`, and `cause`
 * serialized the same way, cycles cut), scrubbed. The logger's `err` serializer; `scrub`
 * uses it for an error at any depth.
 */
export function serializeError(err: Error, depth = 0): Record<string, unknown> {
  return scrub(stdSerializers.errWithCause(err), depth) as Record<string, unknown>;
}
