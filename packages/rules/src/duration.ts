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
