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
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = messageBytes(messageOf(item));
    if (run.length > 0 && bytes + size > maxBytes) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}
