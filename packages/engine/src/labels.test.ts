import { applyEvents, evaluateAt } from './engine';
import { click, DAY, HOUR, MIN, purchase, rules, T0, ticket } from './fixtures.test-helper';
import { emptyState, encodeState } from './state';

describe('late and duplicate events', () => {
  const r = rules(`
allowedLateness: 1h
features:
  c: { event: any, agg: count }
labels:
  x: { category: behaviour, description: d, when: "c >= 1" }
`);

  it('skips events older than clock − allowedLateness, and counts the one exactly at the edge', () => {
    const a = applyEvents(null, [click('new', T0 + 2 * HOUR)], r);
    const b = applyEvents(a.state, [click('edge', T0 + HOUR), click('old', T0 + HOUR - 1)], r);
    expect(b.outcomes).toEqual([
      { eventId: 'edge', outcome: 'applied' },
      { eventId: 'old', outcome: 'late' },
    ]);
    expect(b.features.c).toBe(2);
  });

  it('judges lateness against the clock as advanced by earlier events of the same batch', () => {
    const step = applyEvents(null, [click('a', T0 + 2 * HOUR), click('b', T0)], r);
    expect(step.outcomes.map((o) => o.outcome)).toEqual(['applied', 'late']);
  });

  it('skips a re-delivered event id, within a batch and across batches', () => {
    const a = applyEvents(null, [click('e1', T0), click('e1', T0)], r);
    expect(a.outcomes.map((o) => o.outcome)).toEqual(['applied', 'duplicate']);
    const b = applyEvents(a.state, [click('e1', T0)], r);
    expect(b.outcomes).toEqual([{ eventId: 'e1', outcome: 'duplicate' }]);
    expect(b.features.c).toBe(1);
    expect(b.changes).toEqual([]);
  });

  it('a duplicate or late event decides nothing: the state as it was, its labels and pending due time reported', () => {
    const w = rules(`
allowedLateness: 1h
features:
  c: { event: any, agg: count, window: 2h, bucket: 1h }
labels:
  x: { category: behaviour, description: d, when: "c >= 1" }
`);
    const a = applyEvents(null, [click('e1', T0), click('e2', T0 + 2 * HOUR)], w);
    expect(a.labels).toEqual(['x']);
    expect(a.nextDueAt).not.toBeNull();
    for (const [e, outcome] of [[click('e2', T0 + 2 * HOUR), 'duplicate'], [click('old', T0 + 30 * MIN), 'late']] as const) {
      const b = applyEvents(a.state, [e], w, { dueAt: a.nextDueAt });
      expect(b.outcomes).toEqual([{ eventId: e.eventId, outcome }]);
      expect(b).toMatchObject({ changes: [], labels: ['x'], effectiveAt: T0 + 2 * HOUR, nextDueAt: a.nextDueAt, features: a.features, errors: [] });
      expect(encodeState(b.state)).toBe(encodeState(a.state));
    }
    // Not given the pending due time: found at the clock (what the last evaluation gave).
    expect(applyEvents(a.state, [click('e2', T0 + 2 * HOUR)], w).nextDueAt).toBe(a.nextDueAt);
    // No event at all: nothing to decide either.
    expect(applyEvents(a.state, [], w, { dueAt: a.nextDueAt })).toMatchObject({ changes: [], labels: ['x'], outcomes: [] });
  });

  it('forgets ids once a re-delivery would be late anyway, and reports such a re-delivery as late', () => {
    const a = applyEvents(null, [click('e1', T0)], r);
    expect(Object.keys(a.state.d)).toEqual(['e1']);
    const b = applyEvents(a.state, [click('e2', T0 + HOUR + 1)], r);
    expect(Object.keys(b.state.d)).toEqual(['e2']);
    const c = applyEvents(b.state, [click('e1', T0)], r);
    expect(c.outcomes).toEqual([{ eventId: 'e1', outcome: 'late' }]);
    expect(c.features.c).toBe(2);
  });

  it('never mutates its input state', () => {
    const a = applyEvents(null, [click('e1', T0)], r);
    const frozen = JSON.stringify(a.state);
    applyEvents(a.state, [click('e2', T0 + 10 * HOUR)], r);
    evaluateAt(a.state, T0 + 100 * DAY, r);
    expect(JSON.stringify(a.state)).toBe(frozen);
  });
});

describe('hysteresis and dwell', () => {
  const r = rules(`
features:
  spend: { event: purchase, agg: sum, field: amountMinorBase, window: 10d, bucket: 1d }
labels:
  high_value:
    category: value
    description: d
    enter: "spend >= 500"
    exit: "spend < 400"
    minDwell: 3d
`);

  it('enters at the enter threshold and leaves only below the exit threshold', () => {
    const a = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 450 })], r);
    expect(a.labels).toEqual([]);
    const b = applyEvents(a.state, [purchase('p2', T0 + DAY, { amountMinorBase: 50 })], r);
    expect(b.changes).toEqual([{ label: 'high_value', category: 'value', change: 'ASSIGNED', reason: 'enter', features: { spend: 500 } }]);
    expect(b.state.l).toEqual({ high_value: T0 + DAY });
    // p1 (450) leaves at T0 + 11d: spend 50 < 400, and the 3d dwell is long over
    const c = evaluateAt(b.state, T0 + 11 * DAY - 1, r);
    expect(c.changes).toEqual([]);
    const d = evaluateAt(b.state, T0 + 11 * DAY, r);
    expect(d.changes).toEqual([{ label: 'high_value', category: 'value', change: 'REMOVED', reason: 'exit', features: { spend: 50 } }]);
  });

  it('stays between the thresholds', () => {
    const a = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 500 }), purchase('p2', T0 + 2 * DAY, { amountMinorBase: 400 })], r);
    expect(a.labels).toEqual(['high_value']);
    const b = evaluateAt(a.state, T0 + 11 * DAY, r); // spend 400: not < 400
    expect(b.features.spend).toBe(400);
    expect(b.labels).toEqual(['high_value']);
  });

  it('keeps a label until minDwell has passed, and schedules the dwell end', () => {
    const r2 = rules(`
features:
  spend: { event: purchase, agg: sum, field: amountMinorBase, window: 1d, bucket: 1h }
labels:
  high_value: { category: value, description: d, enter: "spend >= 500", exit: "spend < 400", minDwell: 3d }
`);
    const a = applyEvents(null, [purchase('p1', T0, { amountMinorBase: 600 })], r2);
    expect(a.labels).toEqual(['high_value']);
    expect(a.nextDueAt).toBe(T0 + HOUR + DAY); // the purchase leaves the window
    const b = evaluateAt(a.state, T0 + HOUR + DAY, r2);
    expect(b.features.spend).toBe(0);
    expect(b.changes).toEqual([]); // exit holds, but held only 1d+1h < 3d
    expect(b.nextDueAt).toBe(T0 + 3 * DAY); // dwell end
    expect(evaluateAt(b.state, T0 + 3 * DAY - 1, r2).changes).toEqual([]);
    expect(evaluateAt(b.state, T0 + 3 * DAY, r2).changes).toEqual([expect.objectContaining({ change: 'REMOVED', reason: 'exit' })]);
  });
});

describe('exclusive groups', () => {
  const r = rules(`
allowedLateness: 400d
features:
  orders: { event: purchase, agg: count }
  orders_365d: { event: purchase, agg: count, window: 365d, bucket: 1d }
  activity: { event: any, agg: count }
labels:
  lead:     { category: lifecycle, description: d, when: "orders == 0 && activity > 0" }
  customer: { category: lifecycle, description: d, when: "orders >= 1" }
  loyal:    { category: lifecycle, description: d, enter: "orders_365d >= 3", exit: "orders_365d < 2" }
  vip:      { category: value, description: d, when: "orders >= 2" }
groups:
  lifecycle: { exclusive: true, priority: [loyal, customer, lead] }
  info: { exclusive: false, priority: [vip, customer] }
`);

  it('keeps only the highest-priority holding label; removals come before assignments', () => {
    const a = applyEvents(null, [click('k1', T0)], r);
    expect(a.labels).toEqual(['lead']);
    const b = applyEvents(a.state, [purchase('p1', T0 + DAY)], r);
    expect(b.changes.map((c) => [c.label, c.change, c.reason])).toEqual([
      ['lead', 'REMOVED', 'exit'],
      ['customer', 'ASSIGNED', 'enter'],
    ]);
    const c = applyEvents(b.state, [purchase('p2', T0 + 2 * DAY), purchase('p3', T0 + 3 * DAY)], r);
    expect(c.changes.map((x) => [x.label, x.change, x.reason])).toEqual([
      ['customer', 'REMOVED', 'group:lifecycle'],
      ['loyal', 'ASSIGNED', 'enter'],
      ['vip', 'ASSIGNED', 'enter'],
    ]);
    expect(c.labels).toEqual(['loyal', 'vip']);
    // the group's removal carries the features the removed label reads
    expect(c.changes[0]?.features).toEqual({ orders: 3 });
  });

  it('gives the group back to the next label when the winner leaves', () => {
    const a = applyEvents(null, [purchase('p1', T0), purchase('p2', T0 + DAY), purchase('p3', T0 + 2 * DAY)], r);
    expect(a.labels).toEqual(['loyal', 'vip']);
    // p1 and p2 leave the 365d window: orders_365d 1 < 2, loyal exits, customer takes over
    const b = evaluateAt(a.state, T0 + DAY + 365 * DAY + DAY, r);
    expect(b.features.orders_365d).toBe(1);
    expect(b.changes.map((x) => [x.label, x.change, x.reason])).toEqual([
      ['loyal', 'REMOVED', 'exit'],
      ['customer', 'ASSIGNED', 'enter'],
    ]);
  });

  it('removes labels the rules no longer define, with reason rules-changed', () => {
    const state = { ...emptyState(), c: T0, l: { retired_label: T0 - DAY } };
    const step = evaluateAt(state, T0, r);
    expect(step.changes).toEqual([{ label: 'retired_label', category: 'custom', change: 'REMOVED', reason: 'rules-changed', features: {} }]);
    expect(step.state.l).toEqual({});
  });
});

describe('condition errors', () => {
  it('treats a failing condition as not holding and reports it', () => {
    const r = rules(`
features:
  csat: { event: support_ticket, agg: last, field: satisfactionScore }
labels:
  happy: { category: satisfaction, description: d, when: "csat >= 4" }
`);
    const a = evaluateAt(null, T0, r);
    expect(a.labels).toEqual([]);
    expect(a.errors).toEqual([expect.objectContaining({ kind: 'enter', name: 'happy' })]);
    const b = applyEvents(a.state, [ticket('t1', T0, 5)], r);
    expect(b.labels).toEqual(['happy']);
    expect(b.errors).toEqual([]);
  });
});

describe('evaluateAt', () => {
  it('never moves the clock back: a timer older than the clock evaluates at the clock', () => {
    const r = rules(`
features:
  c: { event: any, agg: count, window: 1h, bucket: 1m }
labels:
  x: { category: behaviour, description: d, when: "c >= 1" }
`);
    const a = applyEvents(null, [click('e', T0 + 30 * MIN)], r);
    const b = evaluateAt(a.state, T0, r);
    expect(b.effectiveAt).toBe(T0 + 30 * MIN);
    expect(b.state.c).toBe(T0 + 30 * MIN);
    expect(evaluateAt(a.state, T0 + 45 * MIN, r).state.c).toBe(T0 + 45 * MIN);
  });
});
