import type { Message } from 'kafkajs';

/**
 * Most bytes one produce request carries: half of Kafka's default `message.max.bytes`
 * (1 MiB), which bounds a record batch. A larger request fails with MESSAGE_TOO_LARGE,
 * which is not retriable: a consumer that sends a whole fetched batch's output at once
 * would fail on the same batch forever once a backlog makes batches big.
 */
export const MAX_SEND_BYTES = 512 * 1024;

/** Size of a message on the wire, roughly: value + key + headers + record overhead. */
export function messageBytes(m: Message): number {
  const len = (v: unknown) => (Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? Buffer.byteLength(v) : 0);
  let headers = 0;
  for (const [k, v] of Object.entries(m.headers ?? {})) headers += k.length + (Array.isArray(v) ? v.reduce((n: number, x) => n + len(x), 0) : len(v));
  return len(m.value) + len(m.key) + headers + 32;
}

/**
 * Splits items, in order, into runs whose messages total at most `maxBytes`; an item larger
 * than that on its own forms a run of its own. No run is empty.
 */
export function chunkMessages<T>(items: readonly T[], messageOf: (item: T) => Message, maxBytes = MAX_SEND_BYTES): T[][] {
  return chunkBySize(items, (item) => messageBytes(messageOf(item)), maxBytes);
}

/**
 * Splits `items` into consecutive runs whose summed `size` stays within `maxSize` and whose
 * summed `count` (default 1 per item) stays within `maxCount`; an item over a limit on its
 * own forms a run of its own. Order is kept; no run is empty.
 */
export function chunkBySize<T>(
  items: readonly T[],
  size: (item: T) => number,
  maxSize: number,
  count: (item: T) => number = () => 1,
  maxCount = Number.POSITIVE_INFINITY,
): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let total = 0;
  let n = 0;
  for (const item of items) {
    const s = size(item);
    const c = count(item);
    if (run.length && (total + s > maxSize || n + c > maxCount)) {
      out.push(run);
      run = [];
      total = 0;
      n = 0;
    }
    run.push(item);
    total += s;
    n += c;
  }
  if (run.length) out.push(run);
  return out;
}
