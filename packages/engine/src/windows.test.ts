import { applyEvents, evaluateAt } from './engine';
import { click, MIN, purchase, rules, SEC, T0, ticket } from './fixtures.test-helper';

describe('window arithmetic at bucket edges', () => {
  // 1h window in 10m buckets: an event in bucket [b, b+10m) counts until b + 10m + 1h.
  const r = rules(`
features:
  c: { event: email_click, agg: count, window: 1h, bucket: 10m }
labels:
  x: { category: behaviour, description: d, when: "c >= 1" }
`);

  it.each([
    ['at the bucket start', 0],
    ['mid-bucket', 5 * MIN],
    ['at the last millisecond of the bucket', 10 * MIN - 1],
  ])('an event %s counts until bucket end + window, exactly', (_n, offset) => {
    const step = applyEvents(null, [click('e1', T0 + offset)], r);
    const expiry = T0 + 10 * MIN + 60 * MIN;
    expect(step.features.c).toBe(1);
    expect(step.nextDueAt).toBe(expiry);
    expect(evaluateAt(step.state, expiry - 1, r).features.c).toBe(1);
    const after = evaluateAt(step.state, expiry, r);
    expect(after.features.c).toBe(0);
    expect(after.changes).toEqual([expect.objectContaining({ label: 'x', change: 'REMOVED', reason: 'exit' })]);
    expect(after.nextDueAt).toBeNull();
  });

  it('an event always counts for at least the full window', () => {
    const t = T0 + 10 * MIN - 1;
    const step = applyEvents(null, [click('e1', t)], r);
    expect(evaluateAt(step.state, t + 60 * MIN, r).features.c).toBe(1);
  });

  it('places a late event in the bucket of its own time', () => {
    const a = applyEvents(null, [click('e1', T0 + 30 * MIN)], r);
    const b = applyEvents(a.state, [click('e2', T0 + 1 * MIN)], r); // 29 minutes late, within 1h lateness
    expect(b.outcomes).toEqual([{ eventId: 'e2', outcome: 'applied' }]);
    expect(b.effectiveAt).toBe(T0 + 30 * MIN); // the clock does not go back
    expect(b.features.c).toBe(2);
    expect(b.nextDueAt).toBe(T0 + 70 * MIN); // e2's bucket [0,10m) expires first
    expect(evaluateAt(b.state, T0 + 70 * MIN, r).features.c).toBe(1);
  });

  it('does not store an event whose bucket is already outside every window', () => {
    const short = rules(`
allowedLateness: 1h
features:
  c: { event: email_click, agg: count, window: 30s }
labels:
  x: { category: behaviour, description: d, when: "c >= 1" }
`);
    const a = applyEvents(null, [click('e1', T0 + 10 * MIN)], short);
    const b = applyEvents(a.state, [click('e2', T0)], short); // within lateness, but its window is long gone
    expect(b.outcomes[0]?.outcome).toBe('applied');
    expect(b.features.c).toBe(1);
    expect(Object.values(b.state.f)).toEqual([{ k: 'w', b: [[Math.floor((T0 + 10 * MIN) / SEC), 1]] }]);
  });

  it('prunes buckets that left every window', () => {
    const a = applyEvents(null, [click('e1', T0)], r);
    expect(Object.keys(a.state.f)).toHaveLength(1);
    const b = evaluateAt(a.state, T0 + 2 * 60 * MIN, r);
    expect(b.state.f).toEqual({});
  });

  it('shares storage between windows of the same definition and keeps the longest', () => {
    const shared = rules(`
features:
  c_1h: { event: purchase, agg: count, window: 1h, bucket: 1m }
  c_2h: { event: purchase, agg: count, window: 2h, bucket: 1m }
labels:
  x: { category: behaviour, description: d, when: "c_1h >= 1 || c_2h >= 1" }
`);
    const a = applyEvents(null, [purchase('p1', T0)], shared);
    expect(Object.keys(a.state.f)).toHaveLength(1);
    expect(a.nextDueAt).toBe(T0 + MIN + 60 * MIN);
    const b = evaluateAt(a.state, T0 + 61 * MIN, shared);
    expect(b.features).toEqual({ c_1h: 0, c_2h: 1 });
    expect(b.nextDueAt).toBe(T0 + MIN + 120 * MIN);
    expect(evaluateAt(b.state, T0 + 121 * MIN, shared).features).toEqual({ c_1h: 0, c_2h: 0 });
  });

  it('ignores events of other types and events failing the filter', () => {
    const f = rules(`
features:
  outdoor: { event: purchase, agg: count, window: 1d, where: "'outdoor' in event.categories" }
labels:
  x: { category: custom, description: d, when: "outdoor >= 1" }
`);
    const step = applyEvents(null, [purchase('p1', T0, { categories: ['shoes'] }), click('c1', T0), ticket('t1', T0, 5), purchase('p2', T0, { categories: ['outdoor', 'shoes'] })], f);
    expect(step.features.outdoor).toBe(1);
  });
});
