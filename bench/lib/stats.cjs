'use strict';
/** Small statistics helpers: percentiles of samples and per-second series. */

/** Nearest-rank percentile of a sorted array (p in 0..100). */
function percentileSorted(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50/p95/p99/max (and count, mean) of `values` in one sort. */
function summary(values) {
  if (!values.length) return { count: 0, p50: null, p95: null, p99: null, max: null, mean: null };
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    p50: percentileSorted(s, 50),
    p95: percentileSorted(s, 95),
    p99: percentileSorted(s, 99),
    max: s[s.length - 1],
    mean: Math.round((sum / s.length) * 10) / 10,
  };
}

/**
 * Groups (t, value) samples into windows of `windowMs` starting at `t0`, returning per
 * window the p50, p99 and max (for latency-over-time charts).
 */
function windows(samples, t0, windowMs) {
  const byWindow = new Map();
  for (const [t, v] of samples) {
    const w = Math.floor((t - t0) / windowMs);
    let list = byWindow.get(w);
    if (!list) byWindow.set(w, (list = []));
    list.push(v);
  }
  return [...byWindow.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([w, vs]) => {
      const s = summary(vs);
      return { t_s: ((w + 1) * windowMs) / 1000, count: s.count, p50: s.p50, p99: s.p99, max: s.max };
    });
}

module.exports = { summary, windows, percentileSorted };
