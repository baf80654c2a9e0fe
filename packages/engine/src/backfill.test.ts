import fc from 'fast-check';
import { loadRules, type CompiledRules } from '@labelstream/rules';
import { backfillPlan, foldHistory, mergeBackfill } from './backfill';
import { applyEvents, evaluateAt } from './engine';
import { DAY, HOUR, MIN, purchase, T0 } from './fixtures.test-helper';
import type { EngineEvent } from './event';

const rulesWith = (version: string, spend: string, extra = ''): CompiledRules =>
  loadRules(`version: "${version}"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d${spend} }
  orders: { event: purchase, agg: count }
${extra}labels:
  high_value: { category: value, description: d, when: "spend_90d >= 5000" }
  repeat: { category: value, description: d, when: "orders >= 2" }
`);

const before = rulesWith('v1', '');
const web = rulesWith('v2', `, where: "event.channel == 'WEB'"`);
const keysOf = (r: CompiledRules, name: string): string => r.features.find((f) => f.name === name)!.storageKey;

/** What live processing under `rules` from the start would hold for each feature. */
function live(events: readonly EngineEvent[], rules: CompiledRules) {
  return applyEvents(null, events, rules).state;
}

describe('backfillPlan', () => {
  it('names the storage keys the new rules add, and the history the longest of them needs', () => {
    const plan = backfillPlan(before, web)!;
    expect([...plan.keys]).toEqual([keysOf(web, 'spend_90d')]);
    expect(plan.historyMs).toBe(90 * DAY);
    expect(backfillPlan(before, rulesWith('v3', ''))).toBeNull();
  });

  it('needs all the history for a new lifetime feature, and includes features nobody reads yet', () => {
    const next = rulesWith('v2', '', `  spend_all: { event: purchase, agg: sum, field: amountMinorBase }\n`);
    const plan = backfillPlan(before, next)!;
    expect([...plan.keys]).toEqual([keysOf(next, 'spend_all')]);
    expect(plan.historyMs).toBeNull();
  });
});

describe('foldHistory and mergeBackfill', () => {
  const events: EngineEvent[] = [
    purchase('p1', T0, { amountMinorBase: 3000, channel: 'WEB' }),
    purchase('p2', T0 + HOUR, { amountMinorBase: 4000, channel: 'MARKETPLACE' }),
    purchase('p3', T0 + 2 * HOUR, { amountMinorBase: 2500, channel: 'WEB' }),
    // re-delivered: counted once, as live processing does
    purchase('p1', T0 + 2 * HOUR, { amountMinorBase: 3000, channel: 'WEB' }),
    // older than the clock − allowed lateness (1h): late, not counted live either
    purchase('p0', T0 - 10 * MIN, { amountMinorBase: 9000, channel: 'WEB' }),
  ];

  it('fills only the new key, with what live processing under the new rules would hold', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    const oldKey = keysOf(before, 'spend_90d');
    const fold = foldHistory(undefined, events, web, plan.keys);
    expect(Object.keys(fold.f)).toEqual([keysOf(web, 'spend_90d')]);
    expect(mergeBackfill(stored, fold, web, plan.keys)).toBe(true);
    const expected = live(events, web);
    expect(stored.f[keysOf(web, 'spend_90d')]).toEqual(expected.f[keysOf(web, 'spend_90d')]);
    // The features that existed before keep their own counts.
    expect(stored.f[oldKey]).toEqual(live(events, before).f[oldKey]);
    // Evaluated under the new rules: 3000 + 2500 on the web, the marketplace order and the late one left out.
    expect(evaluateAt(stored, stored.c, web).features.spend_90d).toBe(5500);
    expect(evaluateAt(stored, stored.c, web).labels).toEqual(['high_value', 'repeat']);
  });

  it('gives the same result whether the history comes in one piece or in slices', () => {
    const plan = backfillPlan(before, web)!;
    let fold = foldHistory(undefined, events.slice(0, 2), web, plan.keys);
    fold = foldHistory(fold, events.slice(2), web, plan.keys);
    expect(fold.f).toEqual(foldHistory(undefined, events, web, plan.keys).f);
  });

  it('keeps only the dedupe ids of the lateness horizon, and still drops a re-delivery inside it', () => {
    const plan = backfillPlan(before, web)!;
    const history = [purchase('a', T0, { channel: 'WEB' }), purchase('b', T0 + 3 * HOUR, { channel: 'WEB' })];
    const fold = foldHistory(undefined, history, web, plan.keys);
    expect([...fold.ids.keys()]).toEqual(['b']);
    foldHistory(fold, [purchase('b', T0 + 3 * HOUR, { channel: 'WEB' }), purchase('a', T0, { channel: 'WEB' })], web, plan.keys);
    expect(fold.f).toEqual(foldHistory(undefined, history, web, plan.keys).f);
  });

  it('replaces what the key held: merging again after a crash changes nothing, never counts twice', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    expect(mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys)).toBe(true);
    const once = JSON.stringify(stored.f);
    expect(mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys)).toBe(false);
    expect(JSON.stringify(stored.f)).toBe(once);
  });

  it('empties the key of a customer with no event in the history', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys);
    expect(mergeBackfill(stored, undefined, web, plan.keys)).toBe(true);
    expect(stored.f[keysOf(web, 'spend_90d')]).toBeUndefined();
  });

  it('leaves out buckets already outside the window at the state clock', () => {
    const plan = backfillPlan(before, web)!;
    const old = [purchase('a', T0, { amountMinorBase: 7000, channel: 'WEB' }), purchase('b', T0 + 100 * DAY, { amountMinorBase: 100, channel: 'WEB' })];
    const stored = live(old, before);
    mergeBackfill(stored, foldHistory(undefined, old, web, plan.keys), web, plan.keys);
    expect(evaluateAt(stored, stored.c, web).features.spend_90d).toBe(100);
    expect(stored.f[keysOf(web, 'spend_90d')]).toEqual(live(old, web).f[keysOf(web, 'spend_90d')]);
  });
});

describe('a backfill equals live processing under the new rules', () => {
  it('for any history (out of order, late, re-delivered, cut into any slices)', () => {
    const plan = backfillPlan(before, web)!;
    const key = keysOf(web, 'spend_90d');
    // A re-delivery is the same event (same id, time and payload): a table of events, and the order they arrive in.
    const event = fc.record({ at: fc.oneof(fc.integer({ min: 0, max: 3 * HOUR }), fc.integer({ min: 0, max: 200 * DAY })), amount: fc.integer({ min: 1, max: 9000 }), web: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { minLength: 40, maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 60 }), fc.integer({ min: 1, max: 60 }), (table, order, slice) => {
        const events = order.map((i) => purchase(`e${i}`, T0 + table[i]!.at, { amountMinorBase: table[i]!.amount, channel: table[i]!.web ? 'WEB' : 'MARKETPLACE' }));
        const stored = live(events, before);
        let fold;
        for (let i = 0; i < events.length; i += slice) fold = foldHistory(fold, events.slice(i, i + slice), web, plan.keys);
        mergeBackfill(stored, fold, web, plan.keys);
        expect(stored.f[key]).toEqual(live(events, web).f[key]);
        expect(evaluateAt(stored, stored.c, web).features).toEqual(evaluateAt(live(events, web), stored.c, web).features);
      }),
      { numRuns: 300 },
    );
  });
});
