import { compareSequences, type ChangeKey } from './compare';

const c = (label: string, change: 'ASSIGNED' | 'REMOVED', at: number, cause: string | null = null): ChangeKey => ({ label, change, effectiveAt: at, causeEventId: cause });

describe('compareSequences', () => {
  const expected = [c('a', 'ASSIGNED', 1, 'e1'), c('b', 'ASSIGNED', 1, 'e1'), c('a', 'REMOVED', 5), c('a', 'ASSIGNED', 9, 'e2')];

  it('an identical sequence matches completely', () => {
    expect(compareSequences(expected, expected)).toEqual({ expected: 4, actual: 4, matched: 4, missing: [], unexplained: [], outOfOrder: 0 });
  });

  it('reports missing, unexplained and out-of-order changes', () => {
    const actual = [c('b', 'ASSIGNED', 1, 'e1'), c('a', 'ASSIGNED', 1, 'e1'), c('a', 'ASSIGNED', 9, 'e2'), c('x', 'ASSIGNED', 3, 'e9')];
    const r = compareSequences(expected, actual);
    expect(r.missing).toEqual([c('a', 'REMOVED', 5)]);
    expect(r.unexplained).toEqual([c('x', 'ASSIGNED', 3, 'e9')]);
    expect(r.outOfOrder).toBe(1); // a+ came after b+, which the oracle puts second
    expect(r.matched).toBe(3);
  });

  it('a change observed more often than expected is unexplained; a different cause or time does not match', () => {
    const r = compareSequences([c('a', 'ASSIGNED', 1, 'e1')], [c('a', 'ASSIGNED', 1, 'e1'), c('a', 'ASSIGNED', 1, 'e1'), c('a', 'ASSIGNED', 2, 'e1'), c('a', 'ASSIGNED', 1, null)]);
    expect(r).toMatchObject({ matched: 1, missing: [], outOfOrder: 0 });
    expect(r.unexplained).toHaveLength(3);
  });

  it('repeated identical keys are matched in order', () => {
    const twice = [c('a', 'ASSIGNED', 1, 'e'), c('a', 'REMOVED', 1, 'e'), c('a', 'ASSIGNED', 1, 'e')];
    expect(compareSequences(twice, twice).outOfOrder).toBe(0);
    expect(compareSequences(twice, [twice[1]!, twice[0]!, twice[2]!]).outOfOrder).toBe(1);
  });
});
