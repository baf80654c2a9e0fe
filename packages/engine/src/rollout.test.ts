import { loadRules } from '@labelstream/rules';
import { applyEvents, evaluateAt } from './engine';
import { explain } from './explain';
import { DAY, purchase, T0 } from './fixtures.test-helper';
import { backfillPlan, foldHistory, mergeBackfill } from './backfill';
import { DiffTally, labelsUnder, labelsUnderBackfill, RateBudget, reevaluate, sweepDurationMs, switchTarget, warmingAfterSwitch, warmingMap } from './rollout';
import { decodeState, encodeState } from './state';

const v = (version: string, threshold: number, extra = ''): ReturnType<typeof loadRules> =>
  loadRules(`version: "${version}"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }
labels:
  big: { category: value, description: d, when: "spend_90d >= ${threshold}" }
${extra}`);

describe('switchTarget', () => {
  it('switches only forward, to the published sequence', () => {
    expect(switchTarget(0, null)).toBeNull();
    expect(switchTarget(0, 1)).toBe(1);
    expect(switchTarget(3, 5)).toBe(5);
    expect(switchTarget(5, 5)).toBeNull();
    // a stale read of the channel never takes a partition back
    expect(switchTarget(5, 4)).toBeNull();
  });
});

describe('reevaluate', () => {
  const old = v('v1', 5000);
  const next = v('v2', 2000, '  small: { category: value, description: d, when: "spend_90d > 0 && spend_90d < 2500" }');
  const state = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 3000 })], old).state;

  it('records the rules version of every evaluation in the state, and keeps it through encoding', () => {
    expect(state.r).toBe('v1');
    expect(decodeState(encodeState(state)).r).toBe('v1');
    expect(decodeState(encodeState(state, { idsApart: true })).r).toBe('v1');
  });

  it('decides every label under the new rules at the customer\'s own clock', () => {
    const r = reevaluate(decodeState(encodeState(state)), next)!;
    expect(r.changes.map((c) => `${c.change} ${c.label} ${c.reason}`)).toEqual(['ASSIGNED big enter']);
    expect(r.labels).toEqual(['big']);
    expect(r.effectiveAt).toBe(T0);
    expect(r.state.r).toBe('v2');
    // windows expire on the timers' schedule, from the same buckets
    expect(r.nextDueAt).toBe(T0 - (T0 % DAY) + DAY + 90 * DAY);
  });

  it('is a no-op for a customer already evaluated under the new version (a resumed sweep)', () => {
    const once = reevaluate(decodeState(encodeState(state)), next)!;
    expect(reevaluate(once.state, next)).toBeNull();
  });

  it('removes labels the new rules no longer define, with reason rules-changed', () => {
    const held = reevaluate(decodeState(encodeState(state)), next)!.state;
    const r = reevaluate(held, v('v3', 2000))!;
    expect(r.changes.map((c) => `${c.change} ${c.label} ${c.reason}`)).toEqual([]);
    const gone = reevaluate(decodeState(encodeState(held)), loadRules(`version: "v4"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }
labels:
  other: { category: value, description: d, when: "spend_90d >= 1" }
`))!;
    expect(gone.changes.map((c) => `${c.change} ${c.label} ${c.reason}`)).toEqual(['REMOVED big rules-changed', 'ASSIGNED other enter']);
  });

  it('leaves the state alone unless in place', () => {
    const copy = decodeState(encodeState(state));
    reevaluate(copy, next);
    expect(copy.r).toBe('v1');
    reevaluate(copy, next, { inPlace: true });
    expect(copy.r).toBe('v2');
  });
});

describe('a re-delivered event after a switch (applied under the old rules, before the switch point)', () => {
  const old = v('v1', 5000);
  const next = v('v2', 2000);
  const applied = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 3000 })], old);

  it('decides nothing under the new rules: no change, the state and its version as they were, the pending due time kept', () => {
    for (const e of [purchase('p1', T0, { amountMinorBase: 3000 }), purchase('p0', T0 - 2 * DAY, { amountMinorBase: 3000 })]) {
      const before = encodeState(applied.state);
      const step = applyEvents(applied.state, [e], next, { dueAt: applied.nextDueAt });
      expect(step.outcomes.map((o) => o.outcome)).toEqual([e.eventId === 'p1' ? 'duplicate' : 'late']);
      // Evaluated under v2 it would assign big (3000 ≥ 2000), caused by the re-delivered event.
      expect(step.changes).toEqual([]);
      expect(step.labels).toEqual([]);
      expect(step.state.r).toBe('v1');
      expect(encodeState(step.state)).toBe(before);
      expect(step.effectiveAt).toBe(T0);
      expect(step.nextDueAt).toBe(applied.nextDueAt);
      expect(step.features).toEqual({ spend_90d: 3000 });
      expect(encodeState(applied.state)).toBe(before); // the input untouched
      // So the sweep still reaches the customer, and decides the change (cause RULES_CHANGED).
      expect(reevaluate(step.state, next)!.changes.map((c) => `${c.change} ${c.label}`)).toEqual(['ASSIGNED big']);
    }
  });

  it('in place too; and without the pending due time given, finds it at the clock', () => {
    const mine = decodeState(encodeState(applied.state));
    const step = applyEvents(mine, [purchase('p1', T0, { amountMinorBase: 3000 })], next, { inPlace: true });
    expect(step.state).toBe(mine);
    expect(mine.r).toBe('v1');
    expect(step.changes).toEqual([]);
    expect(step.nextDueAt).toBe(applied.nextDueAt);
  });

  it('reports the labels the state holds, those the rules no longer define last', () => {
    const held = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 6000 })], v('v1', 5000, '  legacy: { category: custom, description: d, when: "spend_90d >= 1" }')).state;
    const step = applyEvents(held, [purchase('p1', T0, { amountMinorBase: 6000 })], v('v2', 5000, '  small: { category: value, description: d, when: "spend_90d >= 1" }'));
    expect(step.changes).toEqual([]);
    expect(step.labels).toEqual(['big', 'legacy']);
  });

  it('an event applied with it decides as usual, under the rules given', () => {
    const step = applyEvents(applied.state, [purchase('p1', T0, { amountMinorBase: 3000 }), purchase('p2', T0 + 1, { amountMinorBase: 10 })], next);
    expect(step.outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'applied']);
    expect(step.changes.map((c) => `${c.change} ${c.label}`)).toEqual(['ASSIGNED big']);
    expect(step.state.r).toBe('v2');
  });
});

describe('RateBudget', () => {
  it('gives a burst first, then the rate, never more than asked', () => {
    const b = new RateBudget(100, 50);
    expect(b.take(0, 80)).toBe(50);
    expect(b.take(0, 80)).toBe(0);
    expect(b.take(100, 80)).toBe(10); // 0.1 s at 100/s
    expect(b.take(10_000, 5)).toBe(5);
    expect(b.take(10_000, 500)).toBe(45); // capped at the burst
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new RateBudget(0)).toThrow(RangeError);
  });

  it('estimates a sweep', () => {
    expect(sweepDurationMs(1_000_000, 2000)).toBe(500_000);
  });
});

describe('DiffTally', () => {
  it('counts entries and exits per label with a bounded number of examples', () => {
    const t = new DiffTally(2);
    t.add('a', ['x'], ['x', 'y']);
    t.add('b', ['x'], ['y']);
    t.add('c', [], ['y']);
    t.add('d', ['x'], ['x']);
    t.unreadable();
    expect(t.result()).toEqual({
      customers: 5,
      changed: 3,
      unreadable: 1,
      labels: {
        x: { enter: 0, leave: 1, enterExamples: [], leaveExamples: ['b'] },
        y: { enter: 3, leave: 0, enterExamples: ['a', 'b'], leaveExamples: [] },
      },
    });
  });

  it('takes labels from a stored state and its evaluation under new rules, without changing the state', () => {
    const s = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 3000 })], v('v1', 5000)).state;
    expect(labelsUnder(s, v('v2', 2000))).toEqual({ before: [], after: ['big'] });
    expect(s.r).toBe('v1');
  });
});

describe('warmingAfterSwitch', () => {
  const base = v('v1', 5000);
  const filteredText = `
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d, where: "event.channel != 'MARKETPLACE'" }
  orders: { event: purchase, agg: count }
labels:
  big: { category: value, description: d, when: "spend_90d >= 5000" }
  repeat: { category: value, description: d, when: "orders >= 2" }
`;
  const filtered = loadRules(`version: "v2"${filteredText}`);

  it('lists the features a switch starts empty, with when their window is covered (never, for lifetime)', () => {
    const w = warmingAfterSwitch(base, filtered, T0);
    expect(w.map((x) => [x.feature, x.until])).toEqual([
      ['spend_90d', T0 + 90 * DAY],
      ['orders', null],
    ]);
    expect(w[0]!.storageKey).toBe(filtered.features[0]!.storageKey);
  });

  it('after a backfill: a window the history covers is whole at once, one it does not warms from the earliest retained event', () => {
    // Complete history (nothing ever deleted): nothing warms, not even a lifetime feature.
    expect(warmingAfterSwitch(base, filtered, T0, [], Number.NEGATIVE_INFINITY)).toEqual([]);
    // History back to 100 days before the switch: the 90d window is covered, the lifetime count is not.
    expect(warmingAfterSwitch(base, filtered, T0, [], T0 - 100 * DAY).map((x) => [x.feature, x.until])).toEqual([['orders', null]]);
    // History back to 30 days: the 90d window is covered 60 days after the switch.
    expect(warmingAfterSwitch(base, filtered, T0, [], T0 - 30 * DAY).map((x) => [x.feature, x.until])).toEqual([
      ['spend_90d', T0 + 60 * DAY],
      ['orders', null],
    ]);
  });

  it('covers a window only if the history reaches one window before the oldest customer clock', () => {
    // History back to 100 days: enough for customers evaluated at the switch, not for one whose clock lags 20 days.
    expect(warmingAfterSwitch(base, filtered, T0, [], T0 - 100 * DAY, { oldestClock: T0 - 20 * DAY }).map((x) => [x.feature, x.until])).toEqual([
      ['spend_90d', T0 - 10 * DAY],
      ['orders', null],
    ]);
    expect(warmingAfterSwitch(base, filtered, T0, [], T0 - 100 * DAY, { oldestClock: T0 - 5 * DAY }).map((x) => x.feature)).toEqual(['orders']);
    // Events may be up to 6 days ahead of their records' time: 100 days of records cover 90 + 6 days before the oldest clock only if it is within 4 days.
    expect(warmingAfterSwitch(base, filtered, T0, [], T0 - 100 * DAY, { oldestClock: T0 - 5 * DAY, futureSkewMs: 6 * DAY }).map((x) => x.feature)).toEqual(['spend_90d', 'orders']);
  });

  it('carries earlier warm-ups that the next rules still read, until their window is covered', () => {
    const first = warmingAfterSwitch(base, filtered, T0);
    const next = loadRules(`version: "v3"${filteredText.replace('orders >= 2', 'orders >= 3')}`);
    expect(warmingAfterSwitch(filtered, next, T0 + DAY, first).map((x) => x.feature)).toEqual(['spend_90d', 'orders']);
    expect(warmingAfterSwitch(filtered, next, T0 + 91 * DAY, first).map((x) => x.feature)).toEqual(['orders']);
    // Back to the unfiltered definition: its key missed the events since the first switch.
    expect(warmingAfterSwitch(filtered, base, T0 + DAY, first).map((x) => [x.feature, x.until])).toEqual([['spend_90d', T0 + 91 * DAY]]);
  });
});

describe('whileWarming: hold', () => {
  const text = (version: string, where: string, mode: string) => `version: "${version}"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d${where} }
labels:
  big: { category: value, description: d, when: "spend_90d >= 2000", whileWarming: ${mode} }
`;
  const before = loadRules(text('v1', '', 'hold'));
  const held = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 3000 })], before).state;

  it('keeps a label that reads a feature the switch started empty until its window is covered, then decides', () => {
    const after = loadRules(text('v2', `, where: "event.channel == 'WEB'"`, 'hold'));
    const warming = warmingMap(warmingAfterSwitch(before, after, T0));
    expect([...warming]).toEqual([['spend_90d', T0 + 90 * DAY]]);
    const r = reevaluate(decodeState(encodeState(held)), after, { warming })!;
    expect(r.changes).toEqual([]);
    expect(r.labels).toEqual(['big']);
    expect(r.nextDueAt).toBe(T0 + 90 * DAY); // decided when the window is covered
    const later = evaluateAt(r.state, T0 + 90 * DAY, after, { warming });
    expect(later.changes.map((c) => `${c.change} ${c.label}`)).toEqual(['REMOVED big']); // empty feature: the label leaves then
    // and not before: nothing is assigned either while warming
    const fresh = applyEvents(null, [purchase('p2', T0 + DAY, { amountMinorBase: 5000, channel: 'WEB' })], after, { warming });
    expect(fresh.labels).toEqual([]);
  });

  it('decides on partial history by default (whileWarming: decide)', () => {
    const after = loadRules(text('v2', `, where: "event.channel == 'WEB'"`, 'decide'));
    const warming = warmingMap(warmingAfterSwitch(before, after, T0));
    const r = reevaluate(decodeState(encodeState(held)), after, { warming })!;
    expect(r.changes.map((c) => `${c.change} ${c.label}`)).toEqual(['REMOVED big']);
  });

  it('shows the hold in explanations and counts it in a dry run', () => {
    const after = loadRules(text('v2', `, where: "event.channel == 'WEB'"`, 'hold'));
    const warming = warmingMap(warmingAfterSwitch(before, after, T0));
    expect(explain(held, after, T0, warming).labels[0]).toMatchObject({ label: 'big', held: true, holds: true, change: null, warmingUntil: T0 + 90 * DAY });
    expect(labelsUnder(held, after, warming)).toEqual({ before: ['big'], after: ['big'] });
    expect(labelsUnder(held, after)).toEqual({ before: ['big'], after: [] });
  });
});

describe('labelsUnderBackfill', () => {
  const text = (version: string, where: string) => `version: "${version}"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d${where} }
labels:
  big: { category: value, description: d, when: "spend_90d >= 2000" }
`;
  const before = loadRules(text('v1', ''));
  const after = loadRules(text('v2', `, where: "event.channel == 'WEB'"`));
  const plan = backfillPlan(before, after)!;
  const web = [purchase('p1', T0, { amountMinorBase: 3000, channel: 'WEB' })];
  const market = [purchase('p2', T0, { amountMinorBase: 3000, channel: 'MARKETPLACE' })];

  it('counts a redefined feature with its backfill, as the sweep after the switch decides: only the customers whose events no longer pass leave', () => {
    const keeps = applyEvents(null, web, before).state;
    const leaves = applyEvents(null, market, before).state;
    // Counted empty (no backfill), both would leave: the worst case.
    expect(labelsUnder(keeps, after).after).toEqual([]);
    expect(labelsUnderBackfill(decodeState(encodeState(keeps)), foldHistory(undefined, web, after, plan.keys), after, plan.keys)).toEqual({ before: ['big'], after: ['big'] });
    expect(labelsUnderBackfill(decodeState(encodeState(leaves)), foldHistory(undefined, market, after, plan.keys), after, plan.keys)).toEqual({ before: ['big'], after: [] });
    // No event in the history: the key stays empty.
    expect(labelsUnderBackfill(decodeState(encodeState(keeps)), undefined, after, plan.keys).after).toEqual([]);
  });

  it('predicts exactly what the switch decides: mergeBackfill, then the sweep', () => {
    for (const events of [web, market]) {
      const stored = applyEvents(null, events, before).state;
      const fold = foldHistory(undefined, events, after, plan.keys);
      const switched = decodeState(encodeState(stored));
      mergeBackfill(switched, fold, after, plan.keys);
      expect(labelsUnderBackfill(decodeState(encodeState(stored)), fold, after, plan.keys).after).toEqual(reevaluate(switched, after)!.labels);
    }
  });
});
