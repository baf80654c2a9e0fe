/**
 * A live rules change in the oracle (RulesSwitch): hand-worked examples of where the new
 * rules start — at an event index, or at a due time after the old rules' timers stopped —
 * and of the sweep's re-evaluation at the switch point.
 */
import { loadRules } from '@labelstream/rules';
import { eventOf, type EventSpec } from './logs.test-helper';
import { oracleForCustomer, type OracleChange } from './oracle';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const base = (version: string, bigEnter: number, extra = '') =>
  loadRules(`
version: "${version}"
allowedLateness: 5s
features:
  clicks_3s:     { event: email_click, agg: count, window: 3s, bucket: 1s }
  spend_10s:     { event: purchase, agg: sum, field: amountMinorBase, window: 10s, bucket: 2s }
  activity_5s:   { event: any, agg: count, window: 5s, bucket: 1s }
  activity_life: { event: any, agg: count }
labels:
  big:      { category: value, description: d, enter: "spend_10s >= ${bigEnter}", exit: "spend_10s < 40", minDwell: 20s }
  inactive: { category: behaviour, description: d, when: "activity_life > 0 && activity_5s == 0" }
${extra}`);
const OLD = base('old', 100);
const NEW = base('new', 50, '  clicky:   { category: behaviour, description: d, when: "clicks_3s >= 1" }\n');

const click: EventSpec = { kind: 1, amount: 0, lines: [], channel: 'WEB', score: null, status: 'OPENED', campaign: 'c' };
const buy = (amount: number): EventSpec => ({ ...click, kind: 0, amount });
const tagged = (cs: readonly OracleChange[]) =>
  cs.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}@${(c.effectiveAt - T0) / S}s ${c.causeEventId ?? c.cause} ${c.rulesVersion}`);

describe('oracle across a rules switch', () => {
  const events = [eventOf(buy(60), 'p1', T0), eventOf(click, 'c1', T0 + S), eventOf(buy(0), 'p2', T0 + 2 * S)];

  it('swept: one re-evaluation at the clock under the new rules, before the first event under them', () => {
    const out = oracleForCustomer('c-1', events, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 1, timersUntil: null, swept: true } });
    // spend 60: not big under "≥ 100"; the sweep at the clock (0s) finds it big under "≥ 50".
    expect(tagged(out.changes)).toEqual(['+big@0s RULES_CHANGED new', '+clicky@1s c1 new']);
  });

  it('not swept: the first event under the new rules shows the change', () => {
    const out = oracleForCustomer('c-1', events, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 1, timersUntil: null, swept: false } });
    expect(tagged(out.changes)).toEqual(['+big@1s c1 new', '+clicky@1s c1 new']);
    const never = oracleForCustomer('c-1', events, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 3, timersUntil: null, swept: false } });
    expect(tagged(never.changes)).toEqual([]);
  });

  it('an event applied before the switch point and delivered again after it decides nothing: the sweep or the next applied event decides', () => {
    // p1 and c1 applied under the old rules; after the switch both arrive again (a crash before the offset commit), then p2.
    const again = [events[0]!, events[1]!, events[0]!, events[1]!, events[2]!];
    const notSwept = oracleForCustomer('c-1', again, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 2, timersUntil: null, swept: false } });
    // Not '+big@1s p1 new': the copy of p1 was applied under the old rules, it decides nothing now.
    expect(tagged(notSwept.changes)).toEqual(['+big@2s p2 new', '+clicky@2s p2 new']);
    expect(notSwept).toMatchObject({ applied: 3, duplicates: 2 });
    const swept = oracleForCustomer('c-1', again, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 2, timersUntil: null, swept: true } });
    expect(tagged(swept.changes)).toEqual(['+big@1s RULES_CHANGED new', '+clicky@1s RULES_CHANGED new']);
    // Exactly as if they had not arrived again.
    const once = oracleForCustomer('c-1', events, OLD, { horizon: T0 + 2 * S, rulesSwitch: { rules: NEW, firstEvent: 2, timersUntil: null, swept: true } });
    expect(once.changes).toEqual(swept.changes);
  });

  it('due times after the last event: old rules up to timersUntil, new rules after it', () => {
    const one = [eventOf(buy(60), 'p1', T0)];
    // activity leaves at 1s + 5s = 6s (inactive); spend leaves at 2s + 10s = 12s.
    const before = oracleForCustomer('c-1', one, OLD, { horizon: T0 + 30 * S, rulesSwitch: { rules: NEW, firstEvent: 1, timersUntil: T0 + 5 * S, swept: false } });
    expect(tagged(before.changes)).toEqual(['+big@6s TIMER new', '+inactive@6s TIMER new', '-big@26s TIMER new']);
    const after = oracleForCustomer('c-1', one, OLD, { horizon: T0 + 30 * S, rulesSwitch: { rules: NEW, firstEvent: 1, timersUntil: T0 + 6 * S, swept: false } });
    expect(tagged(after.changes)).toEqual(['+inactive@6s TIMER old']);
  });

  it('a redefined feature is backfilled from the whole history at the switch, or (a control) starts empty', () => {
    // spend_10s now counts web purchases only: a new definition, a new storage key.
    const text = (version: string, where: string) => `
version: "${version}"
allowedLateness: 5s
features:
  spend_10s: { event: purchase, agg: sum, field: amountMinorBase, window: 10s, bucket: 2s${where} }
labels:
  big: { category: value, description: d, when: "spend_10s >= 100" }
`;
    const all = loadRules(text('all', ''));
    const web = loadRules(text('web', `, where: "event.channel == 'WEB'"`));
    const log = [eventOf({ ...buy(70), channel: 'WEB' }, 'p1', T0), eventOf({ ...buy(50), channel: 'STORE' }, 'p2', T0 + S), eventOf({ ...buy(40), channel: 'WEB' }, 'p3', T0 + 2 * S)];
    const sw = { rules: web, firstEvent: 2, timersUntil: null, swept: true };
    // Backfilled: at the switch (1s) web spend is 70, so big (120 under the old definition) leaves; p3 brings it to 110.
    expect(tagged(oracleForCustomer('c-1', log, all, { horizon: T0 + 2 * S, rulesSwitch: sw }).changes)).toEqual(['+big@1s p2 all', '-big@1s RULES_CHANGED web', '+big@2s p3 web']);
    // Started empty: p3's 40 alone, never big again.
    expect(tagged(oracleForCustomer('c-1', log, all, { horizon: T0 + 2 * S, rulesSwitch: { ...sw, backfill: false } }).changes)).toEqual(['+big@1s p2 all', '-big@1s RULES_CHANGED web']);
  });
});
