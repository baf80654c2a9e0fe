const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a whole-number duration such as `500ms`, `30s`, `15m`, `2h`, `14d` or `2w` into
 * milliseconds. Returns `undefined` for anything else (no fractions, no bare numbers:
 * a rules file should say its unit).
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** Formats milliseconds with the largest unit that divides it exactly (`90d`, `6h`, `1500ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Bucket sizes the default granularity is rounded down to: "friendly" sizes that divide
 * minutes, hours and days evenly, so bucket edges fall on round clock times.
 */
export const BUCKET_LADDER_MS: readonly number[] = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
  60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
  86_400_000, 604_800_000,
];

/**
 * Default bucket size for a window: window / 48, rounded DOWN to the nearest size on
 * {@link BUCKET_LADDER_MS} (1s … 1d, then 1w), never below 1s.
 *
 * Why 48: a window then spans 48–49 buckets, so an event leaves the window at most
 * ~2% of the window after its nominal expiry (it always counts for at least the full
 * window), while a busy customer's state stays bounded at ~49 entries per feature.
 * Rounding down keeps that bound; the ladder keeps edges on round times.
 * Examples: 14d → 6h, 30d → 12h, 60d/90d/180d → 1d, 365d → 1w, 2m → 2s, 30s → 1s.
 */
export function defaultBucketMs(windowMs: number): number {
  const target = windowMs / 48;
  let best = BUCKET_LADDER_MS[0] as number;
  for (const size of BUCKET_LADDER_MS) if (size <= target) best = size;
  return best;
}
