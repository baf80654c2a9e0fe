import { createHash, hash } from 'node:crypto';
import type { LabelEventType } from '@labelstream/contracts';

/** One-shot `crypto.hash` (Node ≥ 20.12, about twice as fast for short input), else a Hash object. */
const sha256: (text: string) => Buffer =
  typeof hash === 'function' ? (text) => hash('sha256', text, 'buffer') : (text) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The public `eventId` of one label change: a UUID-shaped string (RFC 9562 version 8,
 * "custom") made from the first 128 bits of sha-256(`${decisionId}|${label}|${type}`).
 *
 * Deterministic on purpose: a decision re-sent after a crash anywhere upstream maps to
 * the very same ids, so a consumer that dedupes on `eventId` sees each change once even
 * in the residual duplicate cases the publisher cannot rule out (see the README).
 *
 * @example eventIdFor('3-17', 'high-value', 'LABEL_ASSIGNED') // '6f1c…-…-8…-…'
 */
export function eventIdFor(decisionId: string, label: string, type: LabelEventType): string {
  const b = sha256(`${decisionId}|${label}|${type}`);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122/9562 variant
  const h = b.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
