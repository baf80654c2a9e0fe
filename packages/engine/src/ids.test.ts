import fc from 'fast-check';
import { applyEvents, evaluateAt } from './engine';
import { click, HOUR, rules, SEC, T0 } from './fixtures.test-helper';
import { idSetOf, idsOf, IdView, setIds, SmallIds, type IdSet } from './ids';
import { decodeState, emptyState, encodeState, type CustomerState } from './state';

const r = rules(`
allowedLateness: 1h
features:
  c: { event: email_click, agg: count, window: 2h, bucket: 1h }
labels:
  busy: { category: custom, description: d, when: "c >= 100" }
`);

function contents(ids: IdSet): Record<string, number> {
  const out: Record<string, number> = {};
  ids.forEach((id, t) => (out[id] = t));
  return out;
}

describe('id sets', () => {
  it('behave like an immutable map under adds, prunes and forks, small and large', () => {
    type Op = { kind: 'add'; from: number; t: number } | { kind: 'prune'; from: number; horizon: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), from: fc.nat(), t: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ kind: fc.constant('prune' as const), from: fc.nat(), horizon: fc.integer({ min: 0, max: 1000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (ops: Op[], forkRate) => {
        const sets: IdSet[] = [new SmallIds({}, 0)];
        const models: Array<Map<string, number>> = [new Map()];
        ops.forEach((o, i) => {
          // Mostly the newest set (a lineage), sometimes an older one (a fork).
          const from = (o.from % 100) / 100 < forkRate ? o.from % sets.length : sets.length - 1;
          const model = new Map(models[from]);
          let next: IdSet;
          if (o.kind === 'add') {
            const id = `e${i}`;
            next = sets[from]!.add(id, o.t);
            model.set(id, o.t);
          } else {
            next = sets[from]!.prune(o.horizon);
            for (const [id, t] of model) if (t < o.horizon) model.delete(id);
          }
          sets.push(next);
          models.push(model);
        });
        // Every set, old ones included, still holds exactly what it held when made.
        sets.forEach((s, i) => {
          expect(contents(s)).toEqual(Object.fromEntries(models[i]!));
          for (const id of models[i]!.keys()) expect(s.has(id)).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('switch to a shared log beyond a handful of ids', () => {
    let ids: IdSet = new SmallIds({}, 0);
    for (let i = 0; i < 200; i++) ids = ids.add(`e${i}`, i);
    expect(ids).toBeInstanceOf(IdView);
    expect(Object.keys(contents(ids))).toHaveLength(200);
  });

  it('keep an id named __proto__ as an ordinary id', () => {
    const small = new SmallIds({}, 0).add('__proto__', 5);
    expect(small.has('__proto__')).toBe(true);
    const seen: Array<[string, number]> = [];
    small.forEach((id, t) => seen.push([id, t]));
    expect(seen).toEqual([['__proto__', 5]]);
    let large: IdSet = IdView.fromObject({});
    for (let i = 0; i < 100; i++) large = large.add(`e${i}`, i);
    large = large.add('__proto__', 7);
    const s = emptyState();
    setIds(s, large);
    expect(Object.prototype.hasOwnProperty.call(s.d, '__proto__')).toBe(true);
  });
});

describe('id sets from a map (decoding)', () => {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `e${i}`);
  const idSetFromArrays = (ids: string[], times: number[]): IdSet => idSetOf(new Map(ids.map((id, i) => [id, times[i]!])));

  it('are a plain object up to 8 ids and a shared log beyond, with the same contents', () => {
    for (const n of [0, 1, 8, 9, 64, 65, 1000]) {
      const set = idSetFromArrays(ids(n), ids(n).map((_, i) => i));
      expect(set).toBeInstanceOf(n > 8 ? IdView : SmallIds);
      expect(contents(set)).toEqual(Object.fromEntries(ids(n).map((id, i) => [id, i])));
      expect(set.has('e0')).toBe(n > 0);
      expect(set.has('nope')).toBe(false);
    }
  });

  it('keep __proto__ as an ordinary id', () => {
    for (const n of [3, 100]) {
      const set = idSetFromArrays([...ids(n), '__proto__'], [...ids(n).map(() => 1), 9]);
      expect(set.has('__proto__')).toBe(true);
      const seen = new Map<string, number>();
      set.forEach((id, t) => seen.set(id, t));
      expect(seen.get('__proto__')).toBe(9);
      expect(seen.size).toBe(n + 1);
    }
  });

  it('take the map over instead of copying it', () => {
    const m = new Map(ids(100).map((id, i) => [id, i]));
    const set = idSetOf(m);
    m.delete('e0'); // not allowed to callers; shows the map is the set's own
    expect(set.has('e0')).toBe(false);
  });

  it('grow, prune and fork like a set built one id at a time', () => {
    const base = idSetFromArrays(ids(100), ids(100).map((_, i) => i));
    const a = base.add('x', 200);
    const b = base.add('y', 201); // a fork: base is no longer its log's newest view
    expect(contents(base)).toEqual(Object.fromEntries(ids(100).map((id, i) => [id, i])));
    expect(a.has('x') && !a.has('y') && b.has('y') && !b.has('x')).toBe(true);
    expect(Object.keys(contents(a.prune(50)))).toEqual([...ids(100).slice(50), 'x']);
    expect(Object.keys(contents(base.prune(98)))).toEqual(['e98', 'e99']);
  });
});

describe('a busy customer', () => {
  /** Applies `n` clicks one at a time, a second apart, as the evaluator replays a batch. */
  function replay(from: CustomerState | null, n: number, first: number): CustomerState[] {
    const states: CustomerState[] = [];
    let s = from;
    for (let i = 0; i < n; i++) {
      s = applyEvents(s, [click(`k${first + i}`, T0 + (first + i) * SEC)], r).state;
      states.push(s);
    }
    return states;
  }

  it('keeps every state of a long replay intact, and its d a plain object', () => {
    const states = replay(null, 500, 0);
    const last = states[states.length - 1]!;
    expect(Object.keys(last.d)).toHaveLength(500);
    // An early state still sees only its own ids, after later steps shared its log.
    expect(Object.keys(states[9]!.d)).toHaveLength(10);
    expect(states[9]!.d).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, T0 + i * SEC])));
    // Reading d turns it into an ordinary property; assigning replaces it.
    expect(Object.getOwnPropertyDescriptor(last, 'd')).toHaveProperty('value');
    const copy = decodeState(encodeState(last));
    copy.d = {};
    expect(Object.keys(copy.d)).toEqual([]);
  });

  it('detects duplicates and forgets ids past the horizon, as with a plain d', () => {
    const states = replay(null, 300, 0);
    const last = states[states.length - 1]!;
    expect(applyEvents(last, [click('k7', T0 + 7 * SEC)], r).outcomes).toEqual([{ eventId: 'k7', outcome: 'duplicate' }]);
    // From an older state (a fork), an id added only later is new.
    expect(applyEvents(states[5]!, [click('k200', T0 + 200 * SEC)], r).outcomes).toEqual([{ eventId: 'k200', outcome: 'applied' }]);
    const later = evaluateAt(last, T0 + 300 * SEC + HOUR + 50 * SEC, r).state;
    expect(Object.keys(later.d).sort()).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => T0 + i * SEC >= T0 + 350 * SEC).map((i) => `k${i}`));
    expect(encodeState(decodeState(encodeState(last)))).toBe(encodeState(last));
  });

  it('shares ids instead of copying them', () => {
    const states = replay(null, 300, 0);
    const a = states[states.length - 1]!;
    const b = evaluateAt(a, a.c, r).state;
    expect(idsOf(b)).toBe(idsOf(a)); // nothing pruned or added: the very same set
  });
});
