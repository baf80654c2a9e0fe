/**
 * Default Kafka topic names, one place for every service and test.
 *
 * Raw storefront topics belong to the platform teams; `labels.*` are internal to
 * Labelstream; `crm.*` are the public contract. Deployments may override any name
 * through configuration — pass a {@link TopicNames} around rather than reading these.
 */
export const DEFAULT_TOPICS = Object.freeze({
  purchases: 'storefront.purchases',
  emailClicks: 'storefront.email-clicks',
  supportTickets: 'storefront.support-tickets',
  customerEvents: 'labels.customer-events.v1',
  dlq: 'labels.dlq.v1',
  decisions: 'labels.decisions.v1',
  labelEvents: 'crm.label-events.v1',
  customerLabels: 'crm.customer-labels.v1',
} as const);

/** Logical topic roles, e.g. `'customerEvents'`. */
export type TopicRole = keyof typeof DEFAULT_TOPICS;

/** Concrete topic names for every role (defaults: {@link DEFAULT_TOPICS}). */
export type TopicNames = Readonly<Record<TopicRole, string>>;

/**
 * Subject naming strategy: Confluent's TopicNameStrategy. A topic's value schema is
 * registered under `<topic>-value`; keys are plain UTF-8 customer ids and have no subject.
 * One subject per topic means one record type per topic, which is what every Labelstream
 * topic carries, and it is the default every Confluent client and Kafka Connect assumes.
 *
 * @example subjectFor('crm.label-events.v1') // 'crm.label-events.v1-value'
 */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

/**
 * Compatibility level set on every Labelstream subject: BACKWARD — consumers using the
 * new schema can read data written with the previous one (so consumers upgrade first;
 * adding a field needs a default, removing one is allowed). It is the registry's default
 * and lets a compacted topic such as `crm.customer-labels.v1` be re-read from the start
 * by an upgraded consumer.
 */
export const COMPATIBILITY = 'BACKWARD' as const;

/**
 * How far in the future an event's `occurredAt` may be when ingest receives it (by
 * ingest's clock) before it is refused (TIMESTAMP_IN_FUTURE), by default
 * (INGEST_MAX_FUTURE_SKEW). A record of `labels.customer-events.v1` is stamped when ingest
 * produces it, so its time is at most this much before its event's `occurredAt`: what a
 * reader that finds events by record time (the backfill of a rules change) must allow for.
 */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Kafka header names on `labels.dlq.v1` records. The record value and key are the
 * original bytes, unchanged; these headers say why and where from. All values are UTF-8
 * strings; the DLQ writer (packages/kafka) defines their formats.
 */
export const DLQ_HEADERS = Object.freeze({
  /** Stable reason code, e.g. `MALFORMED_JSON` (ingest-core's REJECT_REASONS). */
  reason: 'ls-dlq-reason',
  /** Human-readable explanation; never contains personal data values. */
  message: 'ls-dlq-message',
  /** JSON path of the offending field (e.g. `items[2].quantity`), when there is one. */
  path: 'ls-dlq-path',
  sourceTopic: 'ls-dlq-source-topic',
  sourcePartition: 'ls-dlq-source-partition',
  sourceOffset: 'ls-dlq-source-offset',
  failedAt: 'ls-dlq-failed-at',
  /**
   * Set (`true`) when the original record did not fit in the DLQ topic: the DLQ record then
   * carries a prefix of the value (and of a long key) instead of all of it, with the two
   * headers below.
   */
  truncated: 'ls-dlq-truncated',
  /** Size in bytes of the original value (truncated records only). */
  originalBytes: 'ls-dlq-original-bytes',
  /** Hex SHA-256 of the original value (truncated records only), to match it with its source. */
  sha256: 'ls-dlq-sha256',
  /** Hex SHA-256 of the original key, when the key was cut too. */
  keySha256: 'ls-dlq-key-sha256',
  /**
   * How many headers the original record had. Their values are never copied (they may hold
   * personal data: an e-mail, a phone number); the source position finds the original.
   */
  headersDropped: 'ls-dlq-headers-dropped',
  /** The original headers' names, comma-separated (names of 1–64 `A-Za-z0-9._-` only, at most 32). */
  headerNames: 'ls-dlq-header-names',
} as const);
