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
