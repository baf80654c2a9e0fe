import fc from 'fast-check';
import { jsonDeeperThan } from './json-depth';

describe('jsonDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(jsonDeeperThan('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(jsonDeeperThan('{"a":[1,{"b":[]}]}', 3)).toBe(true);
    expect(jsonDeeperThan('{"a":"[[[[[[[[[[","b":"\\"[[[[[["}', 1)).toBe(false);
    expect(jsonDeeperThan('"\\\\"', 0)).toBe(false);
  });

  it('agrees with the depth of any JSON value (fast-check)', () => {
    const depth = (v: unknown): number =>
      v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depth)) : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (v) => {
        const text = JSON.stringify(v);
        const d = depth(v);
        expect(jsonDeeperThan(text, d)).toBe(false);
        if (d > 0) expect(jsonDeeperThan(text, d - 1)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
