import { compareRules } from './compare';
import { loadRules } from './compile';

const base = `
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }
  orders: { event: purchase, agg: count }
labels:
  high_value: { category: value, description: d, when: "spend_90d >= 50000" }
  repeat: { category: behaviour, description: d, when: "orders >= 2" }
`;
const load = (version: string, body: string): ReturnType<typeof loadRules> => loadRules(`version: "${version}"\n${body}`);

describe('compareRules', () => {
  it('finds nothing to do when only the version and formatting change', () => {
    const c = compareRules(load('a', base), load('b', base.replace('>= 50000', '>=   50000')));
    expect(c).toMatchObject({ from: 'a', to: 'b', same: true, labelsAdded: [], labelsRemoved: [], labelsChanged: [], features: [] });
  });

  it('names changed, added and removed labels, and features that need history', () => {
    const next = `
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d, where: "event.channel != 'MARKETPLACE'" }
  orders: { event: purchase, agg: count, window: 365d }
  clicks_14d: { event: email_click, agg: count, window: 14d }
labels:
  high_value: { category: value, description: d, when: "spend_90d >= 40000" }
  engaged: { category: behaviour, description: d, when: "clicks_14d >= 3" }
  loyal: { category: behaviour, description: d, when: "orders >= 5" }
`;
    const c = compareRules(load('a', base), load('b', next));
    expect(c.same).toBe(false);
    expect(c.labelsAdded).toEqual(['engaged', 'loyal']);
    expect(c.labelsRemoved).toEqual(['repeat']);
    expect(c.labelsChanged).toEqual(['high_value']);
    expect(c.features).toEqual([
      { name: 'spend_90d', change: 'redefined', historyMs: 90 * 86_400_000, history: '90d', readBy: ['high_value'] },
      { name: 'orders', change: 'redefined', historyMs: 365 * 86_400_000, history: '365d', readBy: ['loyal'] },
      { name: 'clicks_14d', change: 'added', historyMs: 14 * 86_400_000, history: '2w', readBy: ['engaged'] },
    ]);
  });

  it('tells a window change that reuses stored buckets from a new definition', () => {
    const c = compareRules(load('a', base), load('b', base.replace('window: 90d', 'window: 60d')));
    expect(c.features).toEqual([]);
    expect(c.windowsChanged).toEqual(['spend_90d']);
    expect(c.same).toBe(false);
  });
});
