/**
 * Retry policy of webhook deliveries, as pure functions: what an HTTP answer means, how
 * long to wait before the next attempt, and which label events a destination wants.
 */

/** What one attempt's result means for the delivery. */
export type AttemptVerdict = 'delivered' | 'retry' | 'reject';

/**
 * 2xx: delivered. 408 (timeout), 429 (rate limited) and 5xx: the receiver may recover,
 * retry. Anything else (other 4xx, 3xx, 1xx): the request itself is wrong for this
 * receiver (bad signature, gone, redirected) — retrying cannot help, dead-letter at once.
 * Timeouts and connection errors (no status) are retried.
 */
export function classifyStatus(status: number | undefined): AttemptVerdict {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

/** Label for metrics: the status class (`2xx`…`5xx`) or the kind of error. */
export function attemptOutcome(status: number | undefined, error?: 'timeout' | 'network' | 'aborted'): string {
  if (status !== undefined) return `${Math.floor(status / 100)}xx`;
  return error ?? 'network';
}

/**
 * Wait before retry number `retry` (0 = after the first failed attempt): exponential
 * backoff with full jitter, uniform in [0, min(maxMs, initialMs·2^retry)). Full jitter
 * spreads the retries of many stalled deliveries so a recovering receiver is not hit by
 * a synchronised wave.
 */
export function webhookBackoffMs(retry: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(retry, 0), 40));
  return Math.floor(random() * cap);
}

/**
 * A `Retry-After` header (delay-seconds or an HTTP date) in milliseconds from `nowMs`,
 * or undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * True when `label` passes a destination's label filter. No filter (or an empty one)
 * passes everything; entries are exact names or prefixes ending in `*`.
 */
export function matchesLabelFilter(filter: readonly string[] | undefined, label: string): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((f) => (f.endsWith('*') ? label.startsWith(f.slice(0, -1)) : f === label));
}
