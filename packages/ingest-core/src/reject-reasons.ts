/**
 * Every reason a raw message can be rejected to the DLQ for, with the description used
 * in docs/raw-input-contract.md. The codes are a public contract (they travel in the
 * `ls-dlq-reason` header and label the rejection metric): add new ones, never rename.
 */
export const REJECT_REASONS = Object.freeze({
  EMPTY_VALUE: 'The record has no value (null tombstone or zero bytes).',
  OVERSIZE: 'The value is larger than the configured maximum message size.',
  UNSUPPORTED_FORMAT: 'The value is neither JSON nor Confluent-framed Avro where that format is expected.',
  UNKNOWN_SCHEMA: 'The value is Confluent-framed Avro but the registry does not know its schema id.',
  MALFORMED_AVRO: 'The value is Confluent-framed Avro but does not decode with its registered writer schema.',
  INVALID_UTF8: 'The value is not valid UTF-8.',
  MALFORMED_JSON: 'The value is not valid JSON.',
  NOT_AN_OBJECT: 'The value (or an array element that must be an object) is not a JSON object.',
  MISSING_FIELD: 'A required field is absent or null.',
  WRONG_TYPE: 'A field has the wrong JSON type (for example a string where a number is required).',
  INVALID_EVENT_ID: 'eventId is empty, longer than 128 characters, or contains characters other than printable ASCII without spaces.',
  INVALID_CUSTOMER_ID: 'customerId does not match the configured customer id pattern.',
  INVALID_ID: 'A reference id (orderId, sku, campaignId, emailId, linkId, ticketId) is empty, too long, or not printable ASCII without spaces.',
  INVALID_TEXT: 'A text field (item category) is empty after trimming, longer than 128 characters, or contains control characters.',
  INVALID_URL: 'url is not a parseable URL, or is empty or longer than 2048 characters once its query and fragment are removed.',
  INVALID_TIMESTAMP: 'occurredAt is neither an ISO-8601 date-time with a zone nor a non-negative integer of epoch milliseconds.',
  TIMESTAMP_TOO_OLD: 'occurredAt is older than the configured maximum lateness.',
  TIMESTAMP_IN_FUTURE: 'occurredAt is further in the future than the configured clock-skew allowance.',
  NEGATIVE_AMOUNT: 'A money amount is negative (refunds are not purchases).',
  NON_FINITE_AMOUNT: 'A money amount is NaN or infinite.',
  AMOUNT_NOT_INTEGER: 'A money amount is not an integer number of minor units.',
  AMOUNT_TOO_LARGE: 'A money amount, or its conversion to the base currency, exceeds the configured maximum.',
  UNKNOWN_CURRENCY: 'currency is not an ISO 4217 code this deployment accepts.',
  NO_FX_RATE: 'currency is valid but the deployment has no exchange rate to its base currency for it.',
  AMOUNT_MISMATCH: 'amountMinor differs from the sum of quantity × unitPriceMinor over items (only when the policy requires them to match).',
  INVALID_ENUM: 'A field holds a value outside its fixed set (ticket status, priority).',
  OUT_OF_RANGE: 'A number is outside its allowed range (quantity below 1, satisfactionScore outside 1–5).',
  TOO_MANY_ITEMS: 'A purchase has more line items than the configured maximum.',
  LIMIT_EXCEEDED: 'The value exceeds a decoding limit: JSON or Avro nesting deeper than allowed, or an Avro value with more array/map items or a longer string than allowed.',
} as const);

/** A stable rejection reason code; see {@link REJECT_REASONS}. */
export type RejectReason = keyof typeof REJECT_REASONS;
