import fc from 'fast-check';
import { chunkBySize } from './chunk';

describe('chunkBySize', () => {
  it('keeps order, never exceeds the limit except for single oversize items, never returns empty runs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.integer({ min: 1, max: 100 }), (sizes, max) => {
        const chunks = chunkBySize(sizes, (s) => s, max);
        expect(chunks.flat()).toEqual(sizes);
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0);
          if (c.length > 1) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(max);
        }
      }),
    );
    expect(chunkBySize([5, 5, 5], (s) => s, 10)).toEqual([[5, 5], [5]]);
    expect(chunkBySize([20, 1], (s) => s, 10)).toEqual([[20], [1]]);
    expect(chunkBySize([], (s: number) => s, 10)).toEqual([]);
  });

  it('also bounds the count per run', () => {
    // items: [size, count]
    const items: Array<[number, number]> = [[1, 2], [1, 2], [1, 3], [1, 9], [1, 1]];
    expect(chunkBySize(items, (i) => i[0], 100, (i) => i[1], 5)).toEqual([[[1, 2], [1, 2]], [[1, 3]], [[1, 9]], [[1, 1]]]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 })), fc.integer({ min: 1, max: 20 }), (counts, max) => {
        const chunks = chunkBySize(counts, () => 0, 1, (c) => c, max);
        expect(chunks.flat()).toEqual(counts);
        for (const c of chunks) if (c.length > 1) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(max);
      }),
    );
  });
});
