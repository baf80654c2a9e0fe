import { asString, isValidId, jsonType, optional, required, type RawObject } from './fields';
import type { IngestPolicy } from './policy';
import { personalKindOf, pseudonymousId } from './personal-id';
import { reject } from './rejection';
import { parseIsoDateTime } from './timestamps';

/**
 * eventId: required unless the policy derives it from the raw record's position, which
 * keeps replays of the same record idempotent. An id that carries an e-mail address or a
 * phone number is replaced by its {@link pseudonymousId}, so the address never reaches
 * Redis, decisions or public label events while duplicates stay duplicates.
 */
export function readEventId(obj: RawObject, policy: IngestPolicy, derived: string): string {
  const v = optional(obj, 'eventId');
  if (v === undefined) {
    if (policy.deriveMissingEventId) return derived;
    reject('MISSING_FIELD', 'eventId', 'is required (the evaluator de-duplicates on it)');
  }
  const id = asString(v, 'eventId');
  if (!isValidId(id)) reject('INVALID_EVENT_ID', 'eventId', 'must be 1–128 printable ASCII characters without spaces');
  return personalKindOf(id) === undefined ? id : pseudonymousId(id, policy.eventIdHashKey);
}

/** customerId must match the policy's pattern over its whole length. */
export function readCustomerId(obj: RawObject, policy: IngestPolicy): string {
  const id = asString(required(obj, 'customerId', 'customerId'), 'customerId');
  const m = policy.customerIdPattern.exec(id);
  if (!m || m.index !== 0 || m[0].length !== id.length) {
    reject('INVALID_CUSTOMER_ID', 'customerId', 'does not match the configured customer id pattern');
  }
  return id;
}

/** Anything below this looks like epoch *seconds* (it is before 1973 in millis). */
const SECONDS_SUSPECT_BELOW = 100_000_000_000;

/**
 * occurredAt: an ISO-8601 date-time with zone, or integer epoch millis (a `Date`, from an
 * Avro decoder configured with logical types, is accepted too); then checked against the
 * lateness and clock-skew window around `now`.
 */
export function readOccurredAt(obj: RawObject, policy: IngestPolicy, now: number): number {
  const v = required(obj, 'occurredAt', 'occurredAt');
  let at: number | null;
  if (typeof v === 'string') at = parseIsoDateTime(v.trim());
  else if (typeof v === 'number') at = Number.isSafeInteger(v) && v >= 0 ? v : null;
  else if (v instanceof Date) at = Number.isNaN(v.getTime()) ? null : v.getTime();
  else reject('WRONG_TYPE', 'occurredAt', `must be an ISO-8601 string or epoch millis number, got ${jsonType(v)}`);
  if (at === null) {
    reject('INVALID_TIMESTAMP', 'occurredAt', 'must be an ISO-8601 date-time with zone (2024-05-01T12:00:00Z) or non-negative integer epoch millis');
  }
  if (at < now - policy.maxLatenessMs) {
    const hint = typeof v === 'number' && v < SECONDS_SUSPECT_BELOW ? ' (it looks like epoch seconds; send epoch millis)' : '';
    reject('TIMESTAMP_TOO_OLD', 'occurredAt', `is older than the allowed lateness of ${policy.maxLatenessMs} ms${hint}`);
  }
  if (at > now + policy.maxFutureSkewMs) {
    reject('TIMESTAMP_IN_FUTURE', 'occurredAt', `is more than ${policy.maxFutureSkewMs} ms in the future`);
  }
  return at;
}
