/**
 * Splits `items` into consecutive runs whose summed `size` stays within `maxSize` (an item
 * larger than `maxSize` forms a run of its own). Order is kept; no run is empty.
 */
export function chunkBySize<T>(items: readonly T[], size: (item: T) => number, maxSize: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let total = 0;
  for (const item of items) {
    const s = size(item);
    if (run.length && total + s > maxSize) {
      out.push(run);
      run = [];
      total = 0;
    }
    run.push(item);
    total += s;
  }
  if (run.length) out.push(run);
  return out;
}
