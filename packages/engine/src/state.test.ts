import { resolve } from 'node:path';
import type { CustomerEvent } from '@labelstream/contracts';
import { readRulesFile } from '@labelstream/rules';
import { applyEvents, evaluateAt } from './engine';
import { EngineError } from './errors';
import { toEngineEvent } from './event';
import { click, DAY, HOUR, purchase, T0, ticket } from './fixtures.test-helper';
import { decodeState, emptyState, encodeState } from './state';

const defaultRules = readRulesFile(resolve(__dirname, '../../../rules/default.yaml'));

/** A typical customer over a year: 8 orders, 12 email clicks in the last 2 months, 2 rated tickets. */
function typicalCustomer() {
  const now = T0 + 365 * DAY;
  const events = [
    ...Array.from({ length: 8 }, (_, i) =>
      purchase(`0b7f3c2e-4a1d-4c5e-9f6a-${String(i).padStart(12, '0')}`, now - (330 - i * 45) * DAY, {
        amountMinorBase: 4_000 + i * 1_500,
        categories: i % 3 === 0 ? ['outdoor', 'shoes'] : ['apparel'],
      }),
    ),
    ...Array.from({ length: 12 }, (_, i) => click(`5d2a9e61-7c3b-4f08-b1d4-${String(i).padStart(12, '0')}`, now - (58 - i * 5) * DAY)),
    ticket('9c4e1f7a-2b6d-4e3a-8f5c-000000000001', now - 200 * DAY, 4),
    ticket('9c4e1f7a-2b6d-4e3a-8f5c-000000000002', now - 20 * DAY, 5),
    click('5d2a9e61-7c3b-4f08-b1d4-999999999999', now),
  ].sort((a, b) => a.occurredAt - b.occurredAt);
  let state = null;
  for (const e of events) state = applyEvents(state, [e], defaultRules).state;
  return state ?? emptyState();
}

describe('encodeState / decodeState', () => {
  it('round-trips a state exactly', () => {
    const s = typicalCustomer();
    const decoded = decodeState(encodeState(s));
    expect(decoded).toEqual(s);
    expect(encodeState(decoded)).toBe(encodeState(s));
  });

  it('keeps a typical customer with the default rules well under 1 KB', () => {
    const s = typicalCustomer();
    const bytes = Buffer.byteLength(encodeState(s));
    expect(Object.keys(s.l).sort()).toEqual(['advocate', 'engaged', 'repeat_customer', 'satisfied']);
    expect(bytes).toBeLessThan(1024);
    // Measured figure, reported in the README ("State and its size").
    expect(bytes).toMatchInlineSnapshot(`533`);
  });

  it('encodes times relative to the clock and bucket indexes as deltas', () => {
    const s = { ...emptyState(), c: 1_000_000, l: { a: 999_000 }, d: { e1: 999_500 }, f: { k1: { k: 'w' as const, b: [[100, 2], [103, 1]] as Array<[number, number]> }, k2: { k: 'n' as const, v: 7 } } };
    expect(encodeState(s)).toBe('{"v":1,"c":1000000,"l":{"a":1000},"d":{"e1":500},"f":{"k1":["w",100,2,3,1],"k2":7}}');
  });

  it.each([
    ['not JSON', '{', 'STATE_CORRUPT'],
    ['another version', '{"v":2,"c":1}', 'STATE_VERSION_UNSUPPORTED'],
    ['no clock', '{"v":1}', 'STATE_CORRUPT'],
    ['an unknown layout', '{"v":1,"c":1,"f":{"k":["?",1]}}', 'STATE_CORRUPT'],
    ['a truncated layout', '{"v":1,"c":1,"f":{"k":["w",1]}}', 'STATE_CORRUPT'],
  ])('rejects %s', (_n, text, code) => {
    let error: unknown;
    try {
      decodeState(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe(code);
    expect((error as EngineError).retriable).toBe(false);
  });
});

describe('toEngineEvent', () => {
  const base = {
    eventId: 'e1',
    customerId: 'c1',
    occurredAt: T0,
    ingestedAt: T0 + 5,
    source: { topic: 'storefront.purchases', partition: 3, offset: 42 },
    purchase: null,
    emailClick: null,
    supportTicket: null,
  };

  it('flattens a purchase', () => {
    const e: CustomerEvent = {
      ...base,
      eventType: 'PURCHASE',
      purchase: {
        orderId: 'o1',
        amountMinor: 1200,
        currency: 'GBP',
        amountMinorBase: 1400,
        channel: 'WEB',
        items: [
          { sku: 'B', category: 'outdoor', quantity: 2, unitPriceMinor: 300 },
          { sku: 'A', category: 'shoes', quantity: 1, unitPriceMinor: 600 },
          { sku: 'B', category: 'outdoor', quantity: 1, unitPriceMinor: 300 },
        ],
      },
    };
    expect(toEngineEvent(e)).toEqual({
      eventId: 'e1',
      customerId: 'c1',
      eventType: 'PURCHASE',
      occurredAt: T0,
      offset: 'storefront.purchases/3/42',
      attrs: { amountMinor: 1200, amountMinorBase: 1400, currency: 'GBP', itemCount: 3, quantity: 4, categories: ['outdoor', 'shoes'], skus: ['A', 'B'], channel: 'WEB' },
    });
  });

  it('flattens clicks and tickets', () => {
    expect(toEngineEvent({ ...base, eventType: 'EMAIL_CLICK', emailClick: { campaignId: 'c', emailId: 'm', linkId: 'l' } }).attrs).toEqual({ campaignId: 'c', emailId: 'm', linkId: 'l' });
    expect(
      toEngineEvent({ ...base, eventType: 'SUPPORT_TICKET', supportTicket: { ticketId: 't', status: 'RESOLVED', priority: 'HIGH', satisfactionScore: null } }).attrs,
    ).toEqual({ ticketId: 't', status: 'RESOLVED', priority: 'HIGH', satisfactionScore: null });
  });

  it('throws EVENT_PAYLOAD_MISSING when the payload does not match the type', () => {
    expect(() => toEngineEvent({ ...base, eventType: 'PURCHASE' })).toThrow(expect.objectContaining({ code: 'EVENT_PAYLOAD_MISSING', context: { eventId: 'e1', customerId: 'c1' } }));
  });
});

describe('default rules end to end', () => {
  it('walks a customer through lead → customer → loyal with the documented labels', () => {
    const r = defaultRules;
    const a = applyEvents(null, [click('k1', T0), click('k2', T0 + HOUR), click('k3', T0 + 2 * HOUR)], r);
    expect(a.labels).toEqual(['engaged', 'lead']);
    const b = applyEvents(a.state, [purchase('p1', T0 + DAY, { amountMinorBase: 60_000 })], r);
    expect(b.changes.map((c) => `${c.change} ${c.label} (${c.reason})`)).toEqual([
      'REMOVED lead (exit)',
      'ASSIGNED high_value (enter)',
      'ASSIGNED first_time_buyer (enter)',
      'ASSIGNED customer (enter)',
    ]);
    const c = applyEvents(b.state, [purchase('p2', T0 + 2 * DAY), purchase('p3', T0 + 3 * DAY), purchase('p4', T0 + 4 * DAY)], r);
    expect(c.labels).toEqual(['high_value', 'repeat_customer', 'engaged', 'loyal']);
    // 60 days without activity: inactive appears exactly on time
    const quietFrom = T0 + 4 * DAY;
    expect(c.nextDueAt).not.toBeNull();
    let state = c.state;
    let due = c.nextDueAt;
    let inactiveAt: number | null = null;
    while (due !== null && inactiveAt === null) {
      const timer = evaluateAt(state, due, r);
      if (timer.labels.includes('inactive')) inactiveAt = timer.effectiveAt;
      state = timer.state;
      due = timer.nextDueAt;
    }
    // activity_60d uses 1-day buckets: the last event's bucket ends at the next midnight
    expect(inactiveAt).toBe(Math.floor(quietFrom / DAY) * DAY + DAY + 60 * DAY);
  });
});
