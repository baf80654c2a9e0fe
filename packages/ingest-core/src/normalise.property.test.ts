import fc from 'fast-check';
import { customerEventType, type CustomerEvent } from '@labelstream/contracts';
import { compileIngestPolicy, convertMinorUnits, normaliseDecoded, normaliseJson, type RawKind, type RawMessage } from './index';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const RATES = { EUR: 1.08, JPY: 0.0067, KWD: 3.25, GBP: 1.27, CHF: 1.1 };
const policy = compileIngestPolicy({ fxRatesToBase: RATES });
const SENTINEL = 'jane.doe@example.com';

function message(kind: RawKind, value: Buffer): RawMessage {
  return { kind, value, key: null, topic: 'storefront.raw', partition: 0, offset: '7' };
}

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$/);
const occurredAt = fc.oneof(
  fc.integer({ min: NOW - policy.maxLatenessMs, max: NOW + policy.maxFutureSkewMs }),
  fc.integer({ min: NOW - policy.maxLatenessMs, max: NOW }).map((t) => new Date(t).toISOString()),
);
const item = fc.record({
  sku: id,
  category: fc.constantFrom('shoes', 'Home & Garden', 'électronique', 'books'),
  quantity: fc.integer({ min: 1, max: 1000 }),
  unitPriceMinor: fc.integer({ min: 0, max: 10_000_000 }),
});
const purchase = fc.record(
  {
    eventId: id,
    customerId: id,
    occurredAt,
    orderId: id,
    amountMinor: fc.integer({ min: 0, max: 1_000_000_000_000 }),
    currency: fc.constantFrom('usd', 'USD', 'eur', 'JPY', 'kwd', 'GBP', 'chf'),
    items: fc.array(item, { maxLength: 20 }),
    channel: fc.constantFrom('web', 'MOBILE_APP', 'store', 'marketplace', 'carrier pigeon'),
    email: fc.constant(SENTINEL),
  },
  { requiredKeys: ['eventId', 'customerId', 'occurredAt', 'orderId', 'amountMinor', 'currency'] },
);

describe('properties', () => {
  it('every valid purchase normalises and round-trips through the customer-event Avro type', () => {
    fc.assert(
      fc.property(purchase, (raw) => {
        const result = normaliseJson(message('purchase', Buffer.from(JSON.stringify(raw))), policy, NOW);
        if (!result.ok) throw new Error(`${result.reason}: ${result.message}`);
        const event = result.event;
        const decoded = customerEventType.fromBuffer(customerEventType.toBuffer(event)) as CustomerEvent;
        expect(decoded).toEqual(event);
        expect(event.purchase?.currency).toBe(raw.currency.toUpperCase());
        expect(event.purchase?.items).toHaveLength(raw.items?.length ?? 0);
        if (event.purchase?.currency === 'USD') expect(event.purchase.amountMinorBase).toBe(raw.amountMinor);
        expect(JSON.stringify(event)).not.toContain(SENTINEL);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes and arbitrary JSON documents never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom<RawKind>('purchase', 'email-click', 'support-ticket'), fc.uint8Array({ maxLength: 300 }), (kind, bytes) => {
        const result = normaliseJson(message(kind, Buffer.from(bytes)), policy, NOW);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom<RawKind>('purchase', 'email-click', 'support-ticket'), fc.jsonValue(), (kind, json) => {
        const result = normaliseJson(message(kind, Buffer.from(JSON.stringify(json) ?? 'null')), policy, NOW);
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('arbitrary JSON never throws, and a rejection never repeats personal data', () => {
    const field = fc.constantFrom('eventId', 'customerId', 'occurredAt', 'orderId', 'amountMinor', 'currency', 'items', 'channel', 'campaignId', 'emailId', 'linkId', 'url', 'ticketId', 'status', 'priority', 'satisfactionScore');
    const poisoned = fc.oneof(fc.constant(SENTINEL), fc.jsonValue().map((v) => [v, SENTINEL]), fc.constant({ sku: SENTINEL, category: SENTINEL, quantity: SENTINEL }));
    fc.assert(
      fc.property(
        fc.constantFrom<RawKind>('purchase', 'email-click', 'support-ticket'),
        purchase,
        fc.dictionary(field, fc.oneof(fc.jsonValue(), poisoned), { maxKeys: 3 }),
        (kind, base, overrides) => {
          const raw = { ...base, campaignId: 'c', emailId: 'm', url: '/x', ticketId: 't', status: 'opened', ...overrides };
          const result = normaliseDecoded(kind, JSON.parse(JSON.stringify(raw)), message(kind, Buffer.from('{}')), policy, NOW);
          if (!result.ok) expect(result.message).not.toContain(SENTINEL);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('conversion is monotonic and within half a minor unit of the exact value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.constantFrom(...Object.values(RATES)),
        (a, b, rate) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(convertMinorUnits(lo, 2, rate, 2) <= convertMinorUnits(hi, 2, rate, 2)).toBe(true);
          const exact = lo * rate;
          expect(Math.abs(Number(convertMinorUnits(lo, 2, rate, 2)) - exact)).toBeLessThanOrEqual(0.5 + exact * 1e-15);
        },
      ),
    );
  });
});
