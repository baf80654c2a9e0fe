import { applyEvents, evaluateAt } from './engine';
import { click, DAY, HOUR, purchase, rules, T0, ticket } from './fixtures.test-helper';

const r = rules(`
allowedLateness: 1d
features:
  n_1d:      { event: purchase, agg: count, window: 1d, bucket: 1h }
  sum_1d:    { event: purchase, agg: sum, field: amountMinorBase, window: 1d, bucket: 1h }
  min_1d:    { event: purchase, agg: min, field: amountMinorBase, window: 1d, bucket: 1h }
  max_1d:    { event: purchase, agg: max, field: amountMinorBase, window: 1d, bucket: 1h }
  last_1d:   { event: support_ticket, agg: last, field: satisfactionScore, window: 1d, bucket: 1h }
  cats_1d:   { event: purchase, agg: distinct, field: categories, window: 1d, bucket: 1h }
  chan_life: { event: purchase, agg: distinct, field: channel }
  n_life:    { event: any, agg: count }
  sum_life:  { event: purchase, agg: sum, field: quantity }
  min_life:  { event: purchase, agg: min, field: amountMinorBase }
  max_life:  { event: purchase, agg: max, field: amountMinorBase }
  last_life: { event: support_ticket, agg: last, field: satisfactionScore }
  camp_last: { event: email_click, agg: last, field: campaignId }
labels:
  x: { category: custom, description: d, when: "n_1d + sum_1d + cats_1d + chan_life + n_life + sum_life >= 0 && min_1d == max_1d && last_1d == last_life && min_life == max_life && camp_last == 'x'" }
`);

describe('aggregations', () => {
  it('empty features: count/sum/distinct are 0, min/max/last are null', () => {
    expect(evaluateAt(null, T0, r).features).toEqual({
      n_1d: 0, sum_1d: 0, min_1d: null, max_1d: null, last_1d: null, cats_1d: 0, chan_life: 0,
      n_life: 0, sum_life: 0, min_life: null, max_life: null, last_life: null, camp_last: null,
    });
  });

  it('computes each aggregation over the window and over the lifetime', () => {
    const events = [
      purchase('p1', T0, { amountMinorBase: 500, quantity: 2, categories: ['a', 'b'], channel: 'WEB' }),
      purchase('p2', T0 + HOUR, { amountMinorBase: 300, quantity: 1, categories: ['b', 'c'], channel: 'STORE' }),
      purchase('p3', T0 + 2 * HOUR, { amountMinorBase: 900, quantity: 5, categories: ['a'], channel: 'WEB' }),
      ticket('t1', T0 + HOUR, 2),
      ticket('t2', T0 + 3 * HOUR, null), // unrated: skipped by last
      click('k1', T0 + HOUR, { campaignId: 'y' }),
      click('k2', T0 + 2 * HOUR, { campaignId: 'x' }),
    ];
    const step = applyEvents(null, events, r);
    expect(step.features).toEqual({
      n_1d: 3, sum_1d: 1700, min_1d: 300, max_1d: 900, last_1d: 2, cats_1d: 3, chan_life: 2,
      n_life: 7, sum_life: 8, min_life: 300, max_life: 900, last_life: 2, camp_last: 'x',
    });
    // after p1's bucket [T0, T0+1h) leaves the 1d window, windowed values drop p1
    const later = evaluateAt(step.state, T0 + HOUR + DAY, r);
    expect(later.features).toMatchObject({ n_1d: 2, sum_1d: 1200, min_1d: 300, max_1d: 900, cats_1d: 3, n_life: 7, min_life: 300 });
    const evenLater = evaluateAt(step.state, T0 + 2 * HOUR + DAY, r);
    expect(evenLater.features).toMatchObject({ n_1d: 1, sum_1d: 900, min_1d: 900, cats_1d: 1, last_1d: null, last_life: 2 });
  });

  it('last picks the greatest occurredAt, ties broken by the larger value, whatever the arrival order', () => {
    const a = ticket('t-a', T0, 1);
    const b = ticket('t-b', T0, 4);
    const old = ticket('t-z', T0 - HOUR, 5);
    for (const order of [[a, b, old], [b, a, old], [old, b, a], [old, a, b]]) {
      expect(applyEvents(null, order, r).features).toMatchObject({ last_1d: 4, last_life: 4 });
    }
  });

  it('distinct keeps the latest time per value', () => {
    const step = applyEvents(null, [purchase('p1', T0, { categories: ['a'] }), purchase('p2', T0 + 5 * HOUR, { categories: ['a'] })], r);
    expect(evaluateAt(step.state, T0 + HOUR + DAY, r).features.cats_1d).toBe(1);
    // 'a' now expires with p2's bucket
    expect(evaluateAt(step.state, T0 + 6 * HOUR + DAY - 1, r).features.cats_1d).toBe(1);
    expect(evaluateAt(step.state, T0 + 6 * HOUR + DAY, r).features.cats_1d).toBe(0);
  });

  it('distinct stops at 64 values, evicting the value seen longest ago', () => {
    const many = Array.from({ length: 70 }, (_, i) => purchase(`p${i}`, T0 + i, { channel: `ch${String(i).padStart(2, '0')}` }));
    const step = applyEvents(null, many, r);
    expect(step.features.chan_life).toBe(64);
    const kept = step.state.f[r.features.find((f) => f.name === 'chan_life')?.storageKey ?? ''];
    expect(kept?.k === 'D' && kept.v.map(([v]) => v)).not.toContain('ch00');
  });
});
