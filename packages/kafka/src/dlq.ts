import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DLQ_HEADERS } from '@labelstream/contracts';

export interface DeadLetter {
  /** Stable reason code, e.g. MALFORMED_JSON. */
  reason: string;
  /** Human explanation; never contains personal data (fields are named by path). */
  message: string;
  /** JSON path of the offending field, for schema errors. */
  path?: string;
}

/**
 * The DLQ record for a rejected message: the original key, value and headers byte for byte,
 * plus headers naming the reason and where the message came from, so it can be fixed and
 * replayed.
 */
export function toDeadLetter(original: KafkaMessage, source: { topic: string; partition: number }, dl: DeadLetter, now = Date.now()): Message {
  const headers: IHeaders = { ...(original.headers ?? {}) };
  headers[DLQ_HEADERS.reason] = dl.reason;
  headers[DLQ_HEADERS.message] = dl.message;
  if (dl.path) headers[DLQ_HEADERS.path] = dl.path;
  headers[DLQ_HEADERS.sourceTopic] = source.topic;
  headers[DLQ_HEADERS.sourcePartition] = String(source.partition);
  headers[DLQ_HEADERS.sourceOffset] = original.offset;
  headers[DLQ_HEADERS.failedAt] = new Date(now).toISOString();
  return { key: original.key, value: original.value, headers, timestamp: original.timestamp };
}
