import { makeRejection, type NormaliseRejection } from '@labelstream/ingest-core';

/**
 * Maps an error from `Registry.decodeWithWriter` to the rejection that sends the message
 * to the DLQ, or null when it is not the message's fault (registry unreachable, a bug):
 * the caller rethrows those so the runner retries the batch — an outage must never
 * dead-letter good input.
 *
 * The adapter's own messages are not reused: they may quote decoder output, and DLQ
 * headers must never carry field values.
 */
export function rejectionForDecodeError(err: unknown): NormaliseRejection | null {
  const e = err as { code?: unknown; retriable?: unknown; context?: { schemaId?: unknown } } | null;
  if (e === null || typeof e !== 'object' || e.retriable !== false) return null;
  const schemaId = typeof e.context?.schemaId === 'number' ? ` (schema id ${e.context.schemaId})` : '';
  if (e.code === 'UNKNOWN_SCHEMA') return makeRejection('UNKNOWN_SCHEMA', `the registry does not know the value's schema id${schemaId}`);
  if (e.code === 'UNDECODABLE' && (e.context as { bound?: unknown } | undefined)?.bound === 'LIMIT_EXCEEDED') {
    return makeRejection('LIMIT_EXCEEDED', `the value exceeds a decoding limit (nesting depth, items or string length) of its writer schema${schemaId}`);
  }
  if (e.code === 'UNDECODABLE') return makeRejection('MALFORMED_AVRO', `the value does not decode with its registered writer schema${schemaId}`);
  return null;
}
