import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CustomerEvent } from '@labelstream/contracts';
import { applyEvents, encodeState, toEngineEvent, type CustomerState } from '@labelstream/engine';
import { oracleForCustomer } from '@labelstream/oracle';
import { loadRules } from '@labelstream/rules';
import { changesState, outcomeOf, replayCustomer, type CustomerStep } from './customer-steps';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const DEMO = loadRules(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'demo.yaml'), 'utf8'));

function event(kind: 'purchase' | 'click', id: string, at: number, amount = 1000): CustomerEvent {
  const base = { eventId: id, customerId: 'c-1', occurredAt: at, ingestedAt: at, source: { topic: 't', partition: 0, offset: 0 }, purchase: null, emailClick: null, supportTicket: null };
  if (kind === 'click') return { ...base, eventType: 'EMAIL_CLICK', emailClick: { campaignId: 'c', emailId: `m-${id}`, linkId: '/' } };
  return {
    ...base,
    eventType: 'PURCHASE',
    purchase: { orderId: `o-${id}`, amountMinor: amount, currency: 'EUR', amountMinorBase: amount, items: [{ sku: 's', category: 'home', quantity: 1, unitPriceMinor: amount }], channel: 'WEB' },
  };
}

const summary = (steps: readonly CustomerStep[]) =>
  steps.flatMap((s) => s.result.changes.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label}@${(s.result.effectiveAt - T0) / S}s ${s.cause.kind}`));

describe('replayCustomer', () => {
  it('evaluates each event of a batch on its own: a first order followed by a second shows first_time_buyer, then removes it', () => {
    const steps = replayCustomer(null, [event('purchase', 'p1', T0), event('purchase', 'p2', T0 + S)].map(toEngineEvent), DEMO);
    expect(steps.map((s) => s.cause.kind)).toEqual(['EVENT', 'EVENT']);
    expect(summary(steps)).toEqual(['+first_time_buyer@0s EVENT', '+customer@0s EVENT', '-first_time_buyer@1s EVENT', '+repeat_customer@1s EVENT']);
    // Both decisions are kept for one commit, with the final state.
    const out = outcomeOf(steps)!;
    expect(out.decisions.map((d) => [d.cause.eventId, d.effectiveAt - T0, d.labels])).toEqual([
      ['p1', 0, steps[0]!.result.labels],
      ['p2', S, steps[1]!.result.labels],
    ]);
    expect(out.state).toBe(encodeState(steps[1]!.result.state));
    // Applied as one batch, the engine would only see the end state (no first_time_buyer at all).
    expect(applyEvents(null, [event('purchase', 'p1', T0), event('purchase', 'p2', T0 + S)].map(toEngineEvent), DEMO).changes.map((c) => c.label)).not.toContain('first_time_buyer');
  });

  it('evaluates a due time that comes before an event first, from the stored state', () => {
    const stored: CustomerState = applyEvents(null, [toEngineEvent(event('click', 'k1', T0))], DEMO).state;
    // Due before the click at 100s: clicks_60s drops the first click at 1s + 60s = 61s (no label
    // change), activity_90s at 1s + 90s = 91s (inactive).
    const steps = replayCustomer(stored, [toEngineEvent(event('click', 'k2', T0 + 100 * S))], DEMO);
    expect(steps.map((s) => `${s.cause.kind}@${(s.result.effectiveAt - T0) / S}s`)).toEqual(['TIMER@61s', 'TIMER@91s', 'EVENT@100s']);
    expect(summary(steps)).toEqual(['+inactive@91s TIMER', '-inactive@100s EVENT']);
    expect(steps[1]!.cause).toEqual({ kind: 'TIMER', eventId: null, eventType: null, eventOccurredAt: T0 + 91 * S });
  });

  it('outcome: the final state and every deciding step, in order; duplicates alone change nothing', () => {
    const first = replayCustomer(null, [event('purchase', 'p1', T0), event('click', 'k1', T0 + 10), event('click', 'k2', T0 + 20)].map(toEngineEvent), DEMO);
    const seen: string[] = [];
    const out = outcomeOf(first, (s) => seen.push(s.cause.eventId ?? 'timer'))!;
    expect(seen).toEqual(['p1', 'k1', 'k2']);
    expect(out.decisions.map((d) => d.cause.eventId)).toEqual(['p1']); // the clicks decide nothing here
    expect(out.decisions[0]!.changes.map((c) => c.label)).toEqual(first[0]!.result.changes.map((c) => c.label));
    expect(out.state).toBe(encodeState(first[2]!.result.state));
    expect(out.nextDueAt).toBe(first[2]!.result.nextDueAt);
    expect(out.changed).toBe(true);
    const again = replayCustomer(first[first.length - 1]!.result.state, [toEngineEvent(event('click', 'k2', T0 + 20))], DEMO);
    expect(again[0]!.result.outcomes[0]!.outcome).toBe('duplicate');
    expect(changesState(again)).toBe(false);
    expect(outcomeOf(again)).toMatchObject({ changed: false, decisions: [] });
    expect(outcomeOf([])).toBeUndefined();
  });

  it('re-delivered events decide nothing, under new rules too: the change the new rules make is the re-check at the clock (RULES_CHANGED)', () => {
    const demoText = readFileSync(join(__dirname, '..', '..', '..', 'rules', 'demo.yaml'), 'utf8');
    const lower = loadRules(demoText.replace('spend_2m >= 50000', 'spend_2m >= 2000').replace(/^version: .*$/m, 'version: "demo-lower"'));
    const applied = replayCustomer(null, [event('purchase', 'p1', T0, 3000), event('click', 'k1', T0 + S)].map(toEngineEvent), DEMO);
    const stored = applied[applied.length - 1]!.result;
    expect(stored.labels).not.toContain('high_value');
    expect(stored.nextDueAt).not.toBeNull();
    // A crash before the offset commit: the next owner, switched to rules under which p1's
    // 3000 makes high_value, reads both again. They were applied under the old rules.
    const again = replayCustomer(stored.state, [event('purchase', 'p1', T0, 3000), event('click', 'k1', T0 + S)].map(toEngineEvent), lower, stored.nextDueAt);
    // Not evaluated under the new rules yet: first the re-check at its clock, as the sweep
    // would (its switch point); the copies then decide nothing.
    expect(again.map((s) => s.cause.kind)).toEqual(['RULES_CHANGED', 'EVENT', 'EVENT']);
    expect(again.slice(1).map((s) => s.result.outcomes[0]!.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(again.slice(1).every((s) => s.result.changes.length === 0)).toBe(true);
    expect(again[0]!.result.effectiveAt).toBe(T0 + S);
    expect(again[0]!.result.changes.map((c) => `${c.change} ${c.label}`)).toEqual(['ASSIGNED high_value']);
    expect(changesState(again)).toBe(true);
    const out = outcomeOf(again)!;
    expect(out).toMatchObject({ changed: true, appliedIds: [] });
    expect(out.decisions.map((d) => d.cause.kind)).toEqual(['RULES_CHANGED']);
    expect(out.final.r).toBe(lower.version); // the sweep skips it now
    // Once re-checked, copies under the same rules decide nothing and store nothing.
    const thrice = replayCustomer(out.final, [event('purchase', 'p1', T0, 3000)].map(toEngineEvent), lower, out.nextDueAt);
    expect(summary(thrice)).toEqual([]);
    expect(changesState(thrice)).toBe(false);
    expect(outcomeOf(thrice)).toMatchObject({ changed: false, decisions: [], nextDueAt: out.nextDueAt });
    // A duplicate after an applied event keeps the due time that event's evaluation set.
    const mixed = replayCustomer(stored.state, [event('click', 'k2', T0 + 70 * S), event('click', 'k2', T0 + 70 * S)].map(toEngineEvent), DEMO, stored.nextDueAt);
    const byEvent = mixed.filter((s) => s.cause.kind === 'EVENT');
    expect(byEvent.map((s) => s.result.outcomes[0]!.outcome)).toEqual(['applied', 'duplicate']);
    const due = byEvent[0]!.result.nextDueAt;
    expect(due).toBeGreaterThan(T0 + 70 * S);
    expect(outcomeOf(mixed)).toMatchObject({ changed: true, nextDueAt: due });
  });

  it('gives exactly the oracle’s changes for any split of a log into batches', () => {
    const specs = fc.array(
      fc.record({ kind: fc.constantFrom('purchase' as const, 'click' as const), dt: fc.integer({ min: 0, max: 400 * S }), amount: fc.integer({ min: 1, max: 40_000 }), cut: fc.boolean() }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(specs, (list) => {
        const events = list.map((x, i) => event(x.kind, `e${i}`, T0 + x.dt, x.amount));
        // Split into batches where `cut` says so; the state carries over between them.
        // The evaluator passes the due time stored with the state (its timer) instead of
        // recomputing it: both must give the same steps.
        const steps: CustomerStep[] = [];
        let state: CustomerState | null = null;
        let due: number | null = null;
        let batch: CustomerEvent[] = [];
        const flush = () => {
          if (!batch.length) return;
          const got = replayCustomer(state, batch.map(toEngineEvent), DEMO, due);
          expect(summary(replayCustomer(state, batch.map(toEngineEvent), DEMO))).toEqual(summary(got));
          steps.push(...got);
          state = got[got.length - 1]!.result.state;
          due = got[got.length - 1]!.result.nextDueAt;
          batch = [];
        };
        list.forEach((x, i) => {
          batch.push(events[i]!);
          if (x.cut) flush();
        });
        flush();
        const oracle = oracleForCustomer('c-1', events, DEMO, { horizon: Number.NEGATIVE_INFINITY });
        const got = steps.flatMap((s) => s.result.changes.map((c) => ({ label: c.label, change: c.change, effectiveAt: s.result.effectiveAt, causeEventId: s.cause.eventId })));
        expect(got).toEqual(oracle.changes.map((c) => ({ label: c.label, change: c.change, effectiveAt: c.effectiveAt, causeEventId: c.causeEventId })));
      }),
      { numRuns: 200 },
    );
  });
});
