/**
 * Where a compressed record batch that failed to decode came from. kafkajs calls a codec
 * with the compressed bytes only, but as a slice (`Buffer#slice` shares memory) of the Fetch
 * response it is decoding: the batch header sits just before the slice, and the topic and
 * partition before that. Every answer is checked against the layout (magic byte, codec id,
 * the chain of batch lengths from the partition's first batch to this one), so a copy, an
 * unexpected layout or a coincidence yields less, never a wrong place.
 */

/** A v2 record batch's header, up to and including the record count: what precedes the records. */
const BATCH_HEADER = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
/** The batch length field covers everything after baseOffset (8) and itself (4). */
const BATCH_LOG_OVERHEAD = 12;
const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
const MAX_TOPIC_NAME = 249;

export interface BatchLocation {
  baseOffset: string;
  lastOffset: string;
  topic?: string;
  partition?: number;
}

/** The batch's first and last offsets from the header before `compressed`, when it is there. */
export function batchOffsetsOf(compressed: Buffer, codecId: number): { baseOffset: string; lastOffset: string } | undefined {
  if (compressed.byteOffset < BATCH_HEADER) return undefined;
  const header = Buffer.from(compressed.buffer, compressed.byteOffset - BATCH_HEADER, BATCH_HEADER);
  if (header.readInt8(MAGIC_AT) !== 2 || (header.readInt16BE(ATTRIBUTES_AT) & 0x07) !== codecId) return undefined;
  const base = header.readBigInt64BE(0);
  return { baseOffset: base.toString(), lastOffset: (base + BigInt(header.readInt32BE(LAST_OFFSET_DELTA_AT))).toString() };
}

/**
 * The offsets, topic and partition of the batch whose compressed records `compressed` is,
 * as far as they can be read (see the file comment). Topic and partition are found for the
 * Fetch response layout of versions 11 and later-compatible brokers (kafkajs 2.2.4 asks for
 * v11 from Kafka 2.3 on); otherwise only the offsets are returned.
 */
export function locateBatch(compressed: Buffer, codecId: number): BatchLocation | undefined {
  const offsets = batchOffsetsOf(compressed, codecId);
  if (!offsets) return undefined;
  const batchStart = compressed.byteOffset - BATCH_HEADER;
  const before = Buffer.from(compressed.buffer, 0, batchStart);
  // The nearest topic entry before the batch whose partitions lead exactly to it.
  for (let at = batchStart - 2; at >= 0; at--) {
    const len = before.readInt16BE(at);
    if (len < 1 || len > MAX_TOPIC_NAME || at + 2 + len + 4 > batchStart) continue;
    const topic = before.toString('latin1', at + 2, at + 2 + len);
    if (!TOPIC_NAME.test(topic)) continue;
    const partition = partitionHolding(before, at + 2 + len, batchStart);
    if (partition !== undefined) return { ...offsets, topic, partition };
  }
  return offsets;
}

/**
 * Walks a topic's partitions (Fetch v11: partition, error, high watermark, last stable
 * offset, log start offset, aborted transactions, preferred read replica, records) from
 * `at`; the partition whose records hold a batch starting exactly at `batchStart`.
 */
function partitionHolding(buf: Buffer, at: number, batchStart: number): number | undefined {
  const fits = (n: number): boolean => at + n <= batchStart;
  if (!fits(4)) return undefined;
  const count = buf.readInt32BE(at);
  at += 4;
  if (count < 1 || count > 100_000) return undefined;
  for (let i = 0; i < count; i++) {
    if (!fits(4 + 2 + 8 + 8 + 8 + 4)) return undefined;
    const partition = buf.readInt32BE(at);
    if (partition < 0) return undefined;
    at += 4 + 2 + 8 + 8 + 8;
    const aborted = buf.readInt32BE(at);
    at += 4;
    if (aborted < -1) return undefined;
    if (aborted > 0) at += aborted * 16;
    if (!fits(4 + 4)) return undefined;
    at += 4; // preferred read replica
    const size = buf.readInt32BE(at);
    at += 4;
    if (size < -1) return undefined;
    const end = at + Math.max(0, size);
    if (batchStart < end) {
      // The batch must be one of this partition's: follow the batch lengths from the first.
      for (let b = at; b <= batchStart; ) {
        if (b === batchStart) return partition;
        if (b + BATCH_LOG_OVERHEAD > batchStart) return undefined;
        const length = buf.readInt32BE(b + 8);
        if (length <= 0) return undefined;
        b += BATCH_LOG_OVERHEAD + length;
      }
      return undefined;
    }
    at = end;
  }
  return undefined;
}
