import fc from 'fast-check';
import { classifySeq } from './sequence';

describe('classifySeq', () => {
  it('classifies duplicates, the next seq and gaps', () => {
    expect(classifySeq(0, 1)).toBe('next');
    expect(classifySeq(5, 6)).toBe('next');
    expect(classifySeq(5, 5)).toBe('duplicate');
    expect(classifySeq(5, 2)).toBe('duplicate');
    expect(classifySeq(5, 8)).toBe('gap');
    expect(classifySeq(0, 3)).toBe('gap');
  });

  it('turns any stream of re-sends (older seqs repeated) into each seq once, in order', () => {
    // The evaluator's contract: seqs 1..n in order, where after a crash it may re-send a
    // suffix it had already sent.
    const stream = fc.integer({ min: 1, max: 60 }).chain((n) =>
      fc.array(fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n })), { maxLength: 5 }).map((resends) => {
        const out: number[] = [];
        const cuts = new Map(resends.map(([at, from]) => [at, Math.min(from, at)]));
        for (let s = 1; s <= n; s++) {
          out.push(s);
          const from = cuts.get(s);
          if (from !== undefined) for (let r = from; r <= s; r++) out.push(r);
        }
        return { n, out };
      }),
    );
    fc.assert(
      fc.property(stream, ({ n, out }) => {
        let last = 0;
        const published: number[] = [];
        for (const s of out) {
          const v = classifySeq(last, s);
          expect(v).not.toBe('gap');
          if (v === 'next') {
            published.push(s);
            last = s;
          }
        }
        expect(published).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      }),
    );
  });
});
