import { applyEvents, evaluateAt } from './engine';
import { click, HOUR, MIN, purchase, rules, T0 } from './fixtures.test-helper';

describe('nextDueAt', () => {
  it('is null when no label reads a windowed feature', () => {
    const r = rules(`
features:
  n: { event: any, agg: count }
  w: { event: any, agg: count, window: 1h }
labels:
  x: { category: behaviour, description: d, when: "n >= 1" }
`);
    expect(applyEvents(null, [click('e', T0)], r).nextDueAt).toBeNull();
  });

  it('is the first expiry that changes a read feature: evaluating 1ms earlier changes nothing', () => {
    const r = rules(`
features:
  clicks: { event: email_click, agg: count, window: 1h, bucket: 5m }
labels:
  engaged: { category: behaviour, description: d, when: "clicks >= 2" }
`);
    const a = applyEvents(null, [click('a', T0 + 1 * MIN), click('b', T0 + 7 * MIN), click('c', T0 + 20 * MIN)], r);
    expect(a.features.clicks).toBe(3);
    let state = a.state;
    let due = a.nextDueAt;
    const seen: Array<[number, number]> = [];
    while (due !== null) {
      const before = evaluateAt(state, due - 1, r);
      const at = evaluateAt(state, due, r);
      expect(before.features.clicks).not.toBe(at.features.clicks);
      expect(before.features.clicks).toBe(evaluateAt(state, state.c, r).features.clicks);
      seen.push([due - T0, at.features.clicks as number]);
      state = at.state;
      due = at.nextDueAt;
    }
    expect(seen).toEqual([
      [65 * MIN, 2],
      [70 * MIN, 1],
      [85 * MIN, 0],
    ]);
  });

  it('skips expiries that do not change the value (max still held by a later bucket)', () => {
    const r = rules(`
features:
  biggest: { event: purchase, agg: max, field: amountMinorBase, window: 1h, bucket: 10m }
labels:
  big: { category: value, description: d, when: "biggest != null && biggest >= 100" }
`);
    const a = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 50 }), purchase('p2', T0 + 15 * MIN, { amountMinorBase: 200 }), purchase('p3', T0 + 25 * MIN, { amountMinorBase: 200 })], r);
    // p1 expiring at 70m leaves max at 200: the first change is when p3's bucket (20-30m) expires at 90m
    expect(a.nextDueAt).toBe(T0 + 90 * MIN);
    expect(evaluateAt(a.state, T0 + 90 * MIN - 1, r).features.biggest).toBe(200);
    expect(evaluateAt(a.state, T0 + 90 * MIN, r).features.biggest).toBeNull();
  });

  it('includes last: the due time is when the latest value leaves', () => {
    const r = rules(`
features:
  last_amount: { event: purchase, agg: last, field: amountMinorBase, window: 1h, bucket: 10m }
labels:
  x: { category: value, description: d, when: "last_amount != null && last_amount > 0" }
`);
    const a = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 5 }), purchase('p2', T0 + 30 * MIN, { amountMinorBase: 7 })], r);
    expect(a.nextDueAt).toBe(T0 + 100 * MIN);
  });

  it('includes the dwell end of a label kept only by its dwell, not of a label whose exit does not hold', () => {
    const r = rules(`
features:
  n: { event: any, agg: count, window: 2h, bucket: 1m }
labels:
  x: { category: behaviour, description: d, when: "n >= 1", minDwell: 3h }
`);
    const a = applyEvents(null, [click('e', T0)], r);
    expect(a.nextDueAt).toBe(T0 + MIN + 2 * HOUR); // the click's expiry; no dwell timer while it holds
    const b = evaluateAt(a.state, a.nextDueAt as number, r);
    expect(b.labels).toEqual(['x']);
    expect(b.nextDueAt).toBe(T0 + 3 * HOUR);
    expect(evaluateAt(b.state, T0 + 3 * HOUR, r).labels).toEqual([]);
  });
});
