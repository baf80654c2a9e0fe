/**
 * The oracle on hand-checked examples (each expectation worked out from the documented
 * semantics, not from running code), plus a check that the random logs of the property
 * tests really exercise timers, groups, dwell, lateness and duplicates.
 */
import fc from 'fast-check';
import { loadRules } from '@labelstream/rules';
import { eventOf, logArb, SMALL, type EventSpec } from './logs.test-helper';
import { oracleForCustomer, runOracle } from './oracle';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const RULES = loadRules(`
version: "oracle-examples"
allowedLateness: 5s
features:
  clicks_3s:    { event: email_click, agg: count, window: 3s, bucket: 1s }
  spend_10s:    { event: purchase, agg: sum, field: amountMinorBase, window: 10s, bucket: 2s }
  activity_5s:  { event: any, agg: count, window: 5s, bucket: 1s }
  activity_life: { event: any, agg: count }
  last_csat:    { event: support_ticket, agg: last, field: satisfactionScore, window: 1h }
labels:
  engaged:  { category: behaviour, description: d, when: "clicks_3s >= 2" }
  big:      { category: value, description: d, enter: "spend_10s >= 100", exit: "spend_10s < 50", minDwell: 20s }
  inactive: { category: behaviour, description: d, when: "activity_life > 0 && activity_5s == 0" }
  unhappy:  { category: satisfaction, description: d, when: "last_csat != null && last_csat <= 2" }
  happy:    { category: satisfaction, description: d, when: "last_csat != null && last_csat >= 4" }
groups:
  satisfaction: { exclusive: true, priority: [unhappy, happy] }
`);

const click: EventSpec = { kind: 1, amount: 0, lines: [], channel: 'WEB', score: null, status: 'OPENED', campaign: 'c' };
const buy = (amount: number): EventSpec => ({ ...click, kind: 0, amount });
const rate = (score: number): EventSpec => ({ ...click, kind: 2, score, status: 'RESOLVED' });
const short = (cs: ReadonlyArray<{ label: string; change: string; effectiveAt: number; causeEventId: string | null }>) =>
  cs.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}@${(c.effectiveAt - T0) / S}s${c.causeEventId === null ? ' timer' : ` ${c.causeEventId}`}`);

describe('oracle examples', () => {
  it('a window drops an event at its bucket end + window, with no new event', () => {
    // clicks at 0.5s and 1.2s: buckets [0,1) and [1,2); the first leaves at 1s + 3s = 4s.
    const out = oracleForCustomer('c-1', [eventOf(click, 'a', T0 + 500), eventOf(click, 'b', T0 + 1200)], RULES, { horizon: T0 + 20 * S });
    expect(short(out.changes)).toEqual(['+engaged@1.2s b', '-engaged@4s timer', '+inactive@7s timer']);
    expect(out.labels).toEqual(['inactive']);
    expect(out.timerEvaluations).toBe(4); // clicks leave at 4s (engaged goes) and 5s, activity at 6s and 7s (inactive)
  });

  it('hysteresis and minimum dwell: held while spend is between exit and enter, and for 20s at least', () => {
    const out = oracleForCustomer('c-1', [eventOf(buy(120), 'p1', T0), eventOf(buy(0), 'p2', T0 + 11 * S)], RULES, { horizon: T0 + 60 * S });
    // spend 120 at 0s → big; 120 leaves at 2s + 10s = 12s, exit holds, but the dwell keeps it until 20s.
    expect(short(out.changes).filter((c) => c.includes('big'))).toEqual(['+big@0s p1', '-big@20s timer']);
  });

  it('exclusive group: the higher priority wins and removes the other with reason group:<name>', () => {
    const out = oracleForCustomer('c-1', [eventOf(rate(5), 't1', T0), eventOf(rate(1), 't2', T0 + S)], RULES, { horizon: T0 });
    expect(out.changes.map((c) => [c.label, c.change, c.reason])).toEqual([
      ['happy', 'ASSIGNED', 'enter'],
      ['happy', 'REMOVED', 'exit'], // last_csat is now 1: happy's own exit holds first
      ['unhappy', 'ASSIGNED', 'enter'],
    ]);
  });

  it('late events (older than clock − lateness) and duplicates are skipped; an event at exactly the limit counts', () => {
    const events = [
      eventOf(click, 'x', T0 + 10 * S),
      eventOf(click, 'old', T0 + 5 * S - 1), // 1 ms beyond the 5s lateness: late
      eventOf(click, 'edge', T0 + 5 * S), // exactly clock − lateness: accepted, in its own bucket
      eventOf(click, 'x', T0 + 10 * S), // re-delivered: duplicate
    ];
    const out = oracleForCustomer('c-1', events, RULES, { horizon: T0 + 10 * S });
    expect({ applied: out.applied, late: out.late, duplicates: out.duplicates }).toEqual({ applied: 2, late: 1, duplicates: 1 });
    expect(short(out.changes)).toEqual([]); // 'edge' (bucket [5s,6s)) is outside the 3s window at 10s: no engaged
  });

  it('a due time at or before the next event is evaluated first; runOracle groups by customer', () => {
    const events = [eventOf(click, 'a', T0), eventOf(click, 'b', T0 + 100), eventOf(click, 'c', T0 + 4 * S, 'c-2'), eventOf(click, 'd', T0 + 4 * S)];
    const out = runOracle(events, RULES, { horizon: T0 + 4 * S });
    // c-1: engaged at 0.1s; both clicks leave at 1s + 3s = 4s — the timer at 4s runs before 'd' (also at 4s).
    expect(short(out.get('c-1')!.changes)).toEqual(['+engaged@0.1s b', '-engaged@4s timer']);
    expect(out.get('c-2')!.changes).toEqual([]);
  });
});

describe('the random logs of the property tests', () => {
  it('exercise timers, groups, dwell, hysteresis, lateness and duplicates', () => {
    const logs = fc.sample(logArb({ start: T0, span: 30 * S, edge: S, disorder: 8 * S, maxEvents: 30 }), { numRuns: 300, seed: 7 });
    const seen = { timer: 0, group: 0, dwellExit: 0, late: 0, duplicates: 0, changes: 0 };
    for (const events of logs) {
      const out = oracleForCustomer('c-1', events, SMALL, { horizon: T0 + 60 * S });
      seen.changes += out.changes.length;
      seen.timer += out.changes.filter((c) => c.causeEventId === null).length;
      seen.group += out.changes.filter((c) => c.reason.startsWith('group:')).length;
      seen.dwellExit += out.changes.filter((c) => (c.label === 'big' || c.label === 'unhappy') && c.change === 'REMOVED' && c.reason === 'exit').length;
      seen.late += out.late;
      seen.duplicates += out.duplicates;
    }
    for (const [what, n] of Object.entries(seen)) expect([what, n > 20]).toEqual([what, true]);
  });
});
