/**
 * Headers added to a record on a webhook dead-letter topic (`labels.webhook-dlq.<name>.v1`),
 * besides the standard DLQ headers (`ls-dlq-reason`, `ls-dlq-source-*`, …). The key,
 * value and original headers are the public label event's, byte for byte, so a record
 * can be re-driven to the destination once it is fixed.
 */
export const WEBHOOK_DLQ_HEADERS = Object.freeze({
  destination: 'ls-webhook-destination',
  /** Attempts made, decimal. */
  attempts: 'ls-webhook-attempts',
  /** HTTP status of the last attempt, absent when it got no answer. */
  lastStatus: 'ls-webhook-last-status',
  /** `timeout` or `network` (with the error message) when the last attempt got no answer. */
  lastError: 'ls-webhook-last-error',
} as const);

/** `ls-dlq-reason` values on webhook dead-letter topics. */
export const WEBHOOK_DLQ_REASONS = Object.freeze({
  /** The receiver answered a non-retriable status (a 4xx other than 408/429, a 3xx). */
  rejected: 'WEBHOOK_REJECTED',
  /** `maxAttempts` attempts failed with retriable errors. */
  exhausted: 'WEBHOOK_ATTEMPTS_EXHAUSTED',
  /** The label event could not be decoded through the registry (never expected). */
  undecodable: 'UNDECODABLE_LABEL_EVENT',
} as const);
