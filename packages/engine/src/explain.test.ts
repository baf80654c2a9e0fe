import { applyEvents } from './engine';
import { explain } from './explain';
import { DAY, purchase, rules, T0 } from './fixtures.test-helper';

const r = rules(`
features:
  orders: { event: purchase, agg: count }
  spend: { event: purchase, agg: sum, field: amountMinorBase, window: 10d, bucket: 1d }
labels:
  customer: { category: lifecycle, description: "bought once", when: "orders >= 1" }
  loyal: { category: lifecycle, description: "bought thrice", when: "orders >= 3" }
  high_value: { category: value, description: "big", enter: "spend >= 500", exit: "spend < 400", minDwell: 5d }
groups:
  lifecycle: { priority: [loyal, customer] }
`);

describe('explain', () => {
  it('explains held labels, conditions, features, dwell and group outcome without changing state', () => {
    const step = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 600 })], r);
    const before = JSON.stringify(step.state);
    const x = explain(step.state, r, T0 + 11 * DAY);
    expect(JSON.stringify(step.state)).toBe(before);
    expect(x).toMatchObject({ rulesVersion: 'test', at: T0 + 11 * DAY, clock: T0, features: { orders: 1, spend: 0 }, undefinedLabels: [] });
    const [customer, loyal, hv] = x.labels;
    expect(customer).toMatchObject({
      label: 'customer',
      held: true,
      since: T0,
      holds: true,
      change: null,
      decidedUnder: 'test',
      enter: { source: 'orders >= 1', holds: true },
      exit: { source: '!(orders >= 1)', holds: false, explicit: false },
      features: { orders: 1 },
      group: { name: 'lifecycle', outcome: 'winner', suppressedBy: null },
    });
    expect(loyal).toMatchObject({ held: false, holds: false, group: { outcome: 'not-holding' } });
    // spend dropped to 0 at T0 + 11d, held since T0 (> 5d dwell): the next evaluation removes it
    expect(hv).toMatchObject({ held: true, holds: false, change: 'REMOVED', reason: 'exit', exit: { holds: true, explicit: true }, dwellUntil: null, group: null });
    expect(hv?.sourceText).toContain('high_value:');
  });

  it('shows a group suppression and the dwell that keeps a label', () => {
    const step = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 600 }), purchase('p2', T0, { amountMinorBase: 0 }), purchase('p3', T0)], r);
    const x = explain(step.state, r, T0 + 10 * DAY + 1);
    expect(x.labels[0]).toMatchObject({ label: 'customer', holds: false, reason: 'group:lifecycle', group: { outcome: 'suppressed', suppressedBy: 'loyal' } });
    expect(x.labels[2]).toMatchObject({ label: 'high_value', holds: true, dwellUntil: null });
    const y = explain({ ...step.state, l: { ...step.state.l, high_value: T0 + 9 * DAY } }, r, T0 + 11 * DAY);
    expect(y.labels[2]).toMatchObject({ holds: true, change: null, dwellUntil: T0 + 14 * DAY });
    expect(explain({ ...step.state, l: { gone: T0 } }, r, T0).undefinedLabels).toEqual(['gone']);
  });
});
