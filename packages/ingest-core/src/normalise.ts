import { isUtf8 } from 'node:buffer';
import type { CustomerEvent, EventType, TopicNames } from '@labelstream/contracts';
import { readEmailClick } from './email-click';
import { InvalidRawKindError, InvalidSourcePositionError } from './errors';
import { readCustomerId, readEventId, readOccurredAt } from './event-header';
import { INT32_MAX, isObject, jsonType } from './fields';
import { isConfluentFramed } from './framing';
import { jsonDeeperThan } from './json-depth';
import type { IngestPolicy } from './policy';
import { readPurchase } from './purchase';
import { makeRejection, reject, Rejection, type NormaliseRejection } from './rejection';
import { readSupportTicket } from './support-ticket';

/** The three raw storefront feeds; the topic a record came from decides its kind. */
export type RawKind = 'purchase' | 'email-click' | 'support-ticket';

/** Every {@link RawKind}. */
export const RAW_KINDS: readonly RawKind[] = ['purchase', 'email-click', 'support-ticket'];

const EVENT_TYPE: Readonly<Record<RawKind, EventType>> = {
  purchase: 'PURCHASE',
  'email-click': 'EMAIL_CLICK',
  'support-ticket': 'SUPPORT_TICKET',
};

/** One record from a raw topic, as the Kafka adapter hands it over. The key is not read: raw topics are keyed arbitrarily. */
export interface RawMessage {
  readonly kind: RawKind;
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (kafkajs's representation). */
  readonly offset: string;
}

/** A canonical event, or the reason the raw message goes to the DLQ. */
export type NormaliseResult = { readonly ok: true; readonly event: CustomerEvent } | NormaliseRejection;

/** Maps each raw topic name to its kind (for a consumer subscribed to all three). */
export function rawKindsByTopic(topics: Pick<TopicNames, 'purchases' | 'emailClicks' | 'supportTickets'>): ReadonlyMap<string, RawKind> {
  return new Map<string, RawKind>([
    [topics.purchases, 'purchase'],
    [topics.emailClicks, 'email-click'],
    [topics.supportTickets, 'support-ticket'],
  ]);
}

/**
 * Checks that apply before any decoding, whatever the format: a value is present and not
 * larger than `policy.maxMessageBytes`. Returns null when the message may be decoded.
 * The Avro path calls this before asking the registry; normaliseJson calls it itself.
 */
export function checkRawEnvelope(msg: RawMessage, policy: IngestPolicy): NormaliseRejection | null {
  if (msg.value === null || msg.value.length === 0) return makeRejection('EMPTY_VALUE', 'the record has no value (null tombstone or zero bytes)');
  if (msg.value.length > policy.maxMessageBytes) {
    return makeRejection('OVERSIZE', `the value is ${msg.value.length} bytes; the limit is ${policy.maxMessageBytes}`);
  }
  return null;
}

function sourceOffset(msg: RawMessage): number {
  const offset = /^\d{1,16}$/.test(msg.offset) ? Number(msg.offset) : NaN;
  if (!Number.isSafeInteger(offset) || !Number.isInteger(msg.partition) || msg.partition < 0 || msg.partition > INT32_MAX) {
    throw new InvalidSourcePositionError({ topic: msg.topic, partition: msg.partition, offset: msg.offset });
  }
  return offset;
}

/**
 * Validates an already-decoded raw value — parsed JSON, or a Confluent-Avro record decoded
 * by the registry adapter (null optional fields are read as absent) — and builds the
 * canonical {@link CustomerEvent}, with `ingestedAt = now`.
 *
 * Never throws for bad input: every problem is a {@link NormaliseRejection} with a stable
 * reason. Throws only for caller bugs (InvalidSourcePositionError, InvalidRawKindError).
 */
export function normaliseDecoded(kind: RawKind, decoded: unknown, msg: RawMessage, policy: IngestPolicy, now: number): NormaliseResult {
  const offset = sourceOffset(msg);
  const eventType = Object.hasOwn(EVENT_TYPE, kind) ? EVENT_TYPE[kind] : undefined;
  if (eventType === undefined) throw new InvalidRawKindError({ kind: String(kind), topic: msg.topic });
  try {
    if (!isObject(decoded)) reject('NOT_AN_OBJECT', undefined, `the value must be a JSON object, got ${jsonType(decoded)}`);
    const event: CustomerEvent = {
      eventId: readEventId(decoded, policy, `${msg.topic}:${msg.partition}:${msg.offset}`),
      customerId: readCustomerId(decoded, policy),
      eventType,
      occurredAt: readOccurredAt(decoded, policy, now),
      ingestedAt: now,
      source: { topic: msg.topic, partition: msg.partition, offset },
      purchase: null,
      emailClick: null,
      supportTicket: null,
    };
    // Only the fields read below reach the canonical event: anything else the producer
    // sent (names, emails, phone numbers, new fields) is dropped here.
    if (kind === 'purchase') event.purchase = readPurchase(decoded, policy);
    else if (kind === 'email-click') event.emailClick = readEmailClick(decoded);
    else event.supportTicket = readSupportTicket(decoded);
    return { ok: true, event };
  } catch (e) {
    if (e instanceof Rejection) return e.toResult();
    throw e;
  }
}

/**
 * Normalises a raw JSON message: envelope checks, UTF-8 (a leading BOM is tolerated),
 * JSON parsing, then {@link normaliseDecoded}. A Confluent-framed value is rejected as
 * UNSUPPORTED_FORMAT: route those through the registry adapter instead.
 *
 * @example
 * const r = normaliseJson(msg, policy, Date.now());
 * if (r.ok) send(r.event.customerId, r.event); else deadLetter(msg, r.reason, r.message, r.path);
 */
export function normaliseJson(msg: RawMessage, policy: IngestPolicy, now: number): NormaliseResult {
  const rejected = checkRawEnvelope(msg, policy);
  if (rejected) return rejected;
  const value = msg.value as Buffer;
  if (isConfluentFramed(value)) {
    return makeRejection('UNSUPPORTED_FORMAT', 'the value is Confluent-framed Avro, which this input is not configured to accept');
  }
  if (!isUtf8(value)) return makeRejection('INVALID_UTF8', 'the value is not valid UTF-8');
  let text = value.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (jsonDeeperThan(text, policy.maxJsonDepth)) {
    return makeRejection('LIMIT_EXCEEDED', `the value nests arrays and objects deeper than ${policy.maxJsonDepth} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may hold personal data: not repeated.
    return makeRejection('MALFORMED_JSON', 'the value is not valid JSON');
  }
  return normaliseDecoded(msg.kind, parsed, msg, policy, now);
}
