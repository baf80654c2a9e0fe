import type { Rng } from './prng';
import type { RawTimestamp } from './types';

/** Late events lag by 2 s to 5 min (log-uniform): enough to cross bucket and window edges. */
const LATE_MIN_MS = 2_000;
const LATE_MAX_MS = 300_000;

/**
 * Event time for an event produced at `now`: slightly behind (producer jitter), or, for
 * `lateRatio` of events, seconds to minutes behind, to exercise out-of-order handling.
 */
export function eventTime(now: number, rng: Rng, lateRatio: number, maxJitterMs: number): number {
  if (rng.chance(lateRatio)) return now - Math.round(rng.logUniform(LATE_MIN_MS, LATE_MAX_MS));
  return now - Math.floor(rng.float() * maxJitterMs);
}

/** Half ISO-8601 UTC strings, half epoch millis, because real producers disagree. */
export function formatTimestamp(ms: number, rng: Rng): RawTimestamp {
  return rng.chance(0.5) ? new Date(ms).toISOString() : ms;
}
