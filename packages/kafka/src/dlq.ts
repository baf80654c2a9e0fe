import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DLQ_HEADERS } from '@labelstream/contracts';
import { messageBytes } from './chunk';

export interface DeadLetter {
  /** Stable reason code, e.g. MALFORMED_JSON. */
  reason: string;
  /** Human explanation; never contains personal data (fields are named by path). */
  message: string;
  /** JSON path of the offending field, for schema errors. */
  path?: string;
}

/** Bytes of the value (and of a long key) a truncated DLQ record keeps. */
export const DLQ_PREFIX_BYTES = 4096;
/**
 * Room left under the DLQ topic's `max.message.bytes` for what `messageBytes` does not
 * count: the record batch header (61 bytes) and per-record varints.
 */
const BATCH_OVERHEAD_BYTES = 1024;

export interface DeadLetterOptions {
  /** When the DLQ record was made (default now). */
  now?: number;
  /**
   * Largest record the DLQ topic accepts (its `max.message.bytes`; default: no limit). A
   * copy that would not fit becomes a truncated record instead of failing the batch.
   */
  maxRecordBytes?: number;
  /**
   * Names of original headers whose values are copied: only headers the pipeline itself
   * writes and documents (e.g. a label event's `ls-seq`, which a re-drive needs), never a
   * producer's. Every other header is described by count and name only.
   */
  keepHeaders?: readonly string[];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A header name worth listing: a plain token (an `@` or `+` never passes, so neither does an address or number). */
const LISTABLE_HEADER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Most original header names a DLQ record lists. */
const MAX_HEADER_NAMES = 32;

/**
 * What a DLQ record says about the original's headers: how many there were and the names
 * of the listable ones. Never a value: producers put e-mail addresses, phone numbers and
 * session tokens in headers, and the DLQ is read by more people than the raw topics. The
 * pipeline ignores headers, so nothing a replay needs is lost; the source position
 * (`ls-dlq-source-*`) leads to the original record, headers and all, while the raw
 * topic's retention keeps it.
 */
function describeOriginalHeaders(headers: IHeaders | undefined, ours: IHeaders, keep: readonly string[]): void {
  for (const k of keep) if (headers?.[k] !== undefined) ours[k] = headers[k];
  const names = Object.keys(headers ?? {}).filter((n) => !keep.includes(n));
  if (names.length === 0) return;
  ours[DLQ_HEADERS.headersDropped] = String(names.length);
  const listed = names.filter((n) => LISTABLE_HEADER_NAME.test(n)).slice(0, MAX_HEADER_NAMES);
  if (listed.length) ours[DLQ_HEADERS.headerNames] = listed.join(',');
}

/**
 * The DLQ record for a rejected message: the original key and value byte for byte, plus
 * headers naming the reason and where the message came from, so it can be fixed and
 * replayed. The original headers' values are not copied, only their count and names
 * (see `describeOriginalHeaders`).
 *
 * When that copy is larger than `maxRecordBytes` (an OVERSIZE reject can be as large as
 * the raw topic allows), the record keeps the reason, the source position, the first
 * {@link DLQ_PREFIX_BYTES} bytes of the value and its size and SHA-256 (`ls-dlq-truncated`),
 * so the partition moves on: the original stays in its raw topic at the named offset.
 */
export function toDeadLetter(original: KafkaMessage, source: { topic: string; partition: number }, dl: DeadLetter, opts: DeadLetterOptions = {}): Message {
  const { now = Date.now(), maxRecordBytes = Number.POSITIVE_INFINITY } = opts;
  const ours: IHeaders = {};
  ours[DLQ_HEADERS.reason] = dl.reason;
  ours[DLQ_HEADERS.message] = dl.message;
  if (dl.path) ours[DLQ_HEADERS.path] = dl.path;
  ours[DLQ_HEADERS.sourceTopic] = source.topic;
  ours[DLQ_HEADERS.sourcePartition] = String(source.partition);
  ours[DLQ_HEADERS.sourceOffset] = original.offset;
  ours[DLQ_HEADERS.failedAt] = new Date(now).toISOString();
  describeOriginalHeaders(original.headers, ours, opts.keepHeaders ?? []);
  const full: Message = { key: original.key, value: original.value, headers: ours, timestamp: original.timestamp };
  if (messageBytes(full) <= maxRecordBytes - BATCH_OVERHEAD_BYTES) return full;

  const value = original.value ?? Buffer.alloc(0);
  const cut: IHeaders = { ...ours };
  cut[DLQ_HEADERS.truncated] = 'true';
  cut[DLQ_HEADERS.originalBytes] = String(value.length);
  cut[DLQ_HEADERS.sha256] = sha256(value);
  let key = original.key ?? null;
  if (key && key.length > DLQ_PREFIX_BYTES) {
    cut[DLQ_HEADERS.keySha256] = sha256(key);
    key = key.subarray(0, DLQ_PREFIX_BYTES);
  }
  return { key, value: value.subarray(0, DLQ_PREFIX_BYTES), headers: cut, timestamp: original.timestamp };
}
