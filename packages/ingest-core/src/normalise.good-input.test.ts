import { customerEventType, type CustomerEvent } from '@labelstream/contracts';
import {
  compileIngestPolicy,
  InvalidRawKindError,
  InvalidSourcePositionError,
  normaliseDecoded,
  normaliseJson,
  rawKindsByTopic,
  type IngestPolicyOptions,
  type NormaliseResult,
  type RawKind,
  type RawMessage,
} from './index';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const header = { eventId: 'evt-1', customerId: 'cust-42', occurredAt: '2024-05-01T11:00:00Z' };

function msg(kind: RawKind, value: unknown, raw = false): RawMessage {
  const bytes = raw ? Buffer.from(value as string) : Buffer.from(JSON.stringify(value));
  return { kind, value: bytes, key: Buffer.from('whatever'), topic: `storefront.${kind}s`, partition: 3, offset: '42' };
}

function accept(kind: RawKind, value: unknown, options?: IngestPolicyOptions): CustomerEvent {
  const result: NormaliseResult = normaliseJson(msg(kind, value), compileIngestPolicy(options), NOW);
  if (!result.ok) throw new Error(`rejected: ${result.reason} ${result.message}`);
  // Every accepted event must be encodable on labels.customer-events.v1.
  expect(customerEventType.isValid(result.event)).toBe(true);
  return result.event;
}

const rates = { fxRatesToBase: { EUR: 1.08, JPY: 0.0067, KWD: 3.25, GBP: 1.27 } };

describe('purchases', () => {
  const purchase = {
    ...header,
    orderId: 'ord-1',
    amountMinor: 2500,
    currency: 'usd',
    items: [{ sku: 'sku-1', category: ' shoes ', quantity: 2, unitPriceMinor: 1250 }],
    channel: 'web',
  };

  it('normalise a full purchase with an ISO timestamp', () => {
    expect(accept('purchase', purchase)).toEqual({
      eventId: 'evt-1',
      customerId: 'cust-42',
      eventType: 'PURCHASE',
      occurredAt: Date.UTC(2024, 4, 1, 11),
      ingestedAt: NOW,
      source: { topic: 'storefront.purchases', partition: 3, offset: 42 },
      purchase: {
        orderId: 'ord-1',
        amountMinor: 2500,
        currency: 'USD',
        amountMinorBase: 2500,
        items: [{ sku: 'sku-1', category: 'shoes', quantity: 2, unitPriceMinor: 1250 }],
        channel: 'WEB',
      },
      emailClick: null,
      supportTicket: null,
    });
  });

  it('accept epoch millis and ISO timestamps with offsets and fractions', () => {
    expect(accept('purchase', { ...purchase, occurredAt: NOW - 1234 }).occurredAt).toBe(NOW - 1234);
    expect(accept('purchase', { ...purchase, occurredAt: '2024-05-01T13:30:00+02:00' }).occurredAt).toBe(Date.UTC(2024, 4, 1, 11, 30));
    expect(accept('purchase', { ...purchase, occurredAt: '2024-05-01T11:00:00.123456z' }).occurredAt).toBe(Date.UTC(2024, 4, 1, 11, 0, 0, 123));
    expect(accept('purchase', { ...purchase, occurredAt: NOW + 60_000 }).occurredAt).toBe(NOW + 60_000);
  });

  it('convert to the base currency with ISO minor units (JPY has none, KWD has three)', () => {
    const base = (currency: string, amountMinor: number, options: IngestPolicyOptions = rates) =>
      accept('purchase', { ...purchase, currency, amountMinor, items: [] }, options).purchase?.amountMinorBase;
    expect(base('JPY', 10_000)).toBe(6_700); // ¥10,000 × 0.0067 = $67.00
    expect(base('EUR', 1_000)).toBe(1_080); // €10.00 × 1.08 = $10.80
    expect(base('KWD', 1_000)).toBe(325); // 1.000 KWD × 3.25 = $3.25
    expect(base('eur', 100, { fxRatesToBase: { EUR: 1.005 } })).toBe(100); // 100.5 → 100 (half to even)
    expect(base('EUR', 300, { fxRatesToBase: { EUR: 1.005 } })).toBe(302); // 301.5 → 302 (half to even)
    expect(base('USD', 2_500, { baseCurrency: 'JPY', fxRatesToBase: { USD: 150 } })).toBe(3_750); // $25.00 → ¥3,750
  });

  it('upper-case the currency and map channels, unknown ones to OTHER', () => {
    const event = accept('purchase', { ...purchase, currency: 'gBp', channel: 'mobile-app' }, rates);
    expect(event.purchase?.currency).toBe('GBP');
    expect(event.purchase?.channel).toBe('MOBILE_APP');
    expect(accept('purchase', { ...purchase, channel: 'tiktok shop' }).purchase?.channel).toBe('OTHER');
    expect(accept('purchase', { ...purchase, channel: undefined }).purchase?.channel).toBe('OTHER');
  });

  it('accept a purchase without items, and a zero amount', () => {
    const event = accept('purchase', { ...purchase, items: undefined, amountMinor: 0 });
    expect(event.purchase?.items).toEqual([]);
    expect(event.purchase?.amountMinorBase).toBe(0);
  });

  it('accept a matching items total when the policy requires it', () => {
    expect(accept('purchase', purchase, { requireItemsTotalMatch: true }).purchase?.amountMinor).toBe(2500);
  });

  it('drop personal and unknown fields', () => {
    const event = accept('purchase', {
      ...purchase,
      email: 'jane.doe@example.com',
      name: 'Jane Doe',
      phone: '+1 555 0100',
      shippingAddress: { street: '1 Main St' },
      futureField: 42,
      items: [{ ...purchase.items[0], giftMessage: 'for Jane' }],
    });
    const text = JSON.stringify(event);
    for (const fragment of ['jane', 'Jane', '555', 'Main St', 'futureField', 'giftMessage']) expect(text).not.toContain(fragment);
  });

  it('tolerate a UTF-8 byte-order mark', () => {
    const result = normaliseJson(msg('purchase', `\uFEFF${JSON.stringify(purchase)}`, true), compileIngestPolicy(), NOW);
    expect(result.ok).toBe(true);
  });
});

describe('email clicks', () => {
  const click = { ...header, occurredAt: NOW - 1000, campaignId: 'cmp-1', emailId: 'msg-1' };

  it('strip query strings, fragments and user-info from url', () => {
    const event = accept('email-click', { ...click, url: 'https://jane:pw@Shop.Example.com/p/1?email=jane%40example.com#top' });
    expect(event.emailClick).toEqual({ campaignId: 'cmp-1', emailId: 'msg-1', linkId: 'https://shop.example.com/p/1' });
    expect(event.eventType).toBe('EMAIL_CLICK');
    expect(event.occurredAt).toBe(NOW - 1000);
  });

  it('prefer linkId, stripped the same way, and reduce contact links to their scheme', () => {
    expect(accept('email-click', { ...click, linkId: 'hero-banner?u=42', url: 'https://x.example/' }).emailClick?.linkId).toBe('hero-banner');
    expect(accept('email-click', { ...click, url: 'mailto:jane.doe@example.com?subject=hi' }).emailClick?.linkId).toBe('mailto:');
    expect(accept('email-click', { ...click, url: '/p/1?token=abc' }).emailClick?.linkId).toBe('/p/1');
  });
});

describe('support tickets', () => {
  const ticket = { ...header, ticketId: 't-1', status: 'OPENED' };

  it('default priority to NORMAL and satisfaction to null', () => {
    expect(accept('support-ticket', ticket).supportTicket).toEqual({ ticketId: 't-1', status: 'OPENED', priority: 'NORMAL', satisfactionScore: null });
  });

  it('accept case-insensitive enums and a score', () => {
    const event = accept('support-ticket', { ...ticket, status: 'resolved', priority: 'Urgent', satisfactionScore: 5 });
    expect(event.supportTicket).toEqual({ ticketId: 't-1', status: 'RESOLVED', priority: 'URGENT', satisfactionScore: 5 });
    expect(event.eventType).toBe('SUPPORT_TICKET');
  });
});

describe('event ids and decoded (Avro) input', () => {
  it('derive a missing eventId from the source position when the policy allows it', () => {
    const event = accept('support-ticket', { ...header, eventId: undefined, ticketId: 't-1', status: 'opened' }, { deriveMissingEventId: true });
    expect(event.eventId).toBe('storefront.support-tickets:3:42');
  });

  it('read an Avro-decoded record: nulls as absent, Date timestamps', () => {
    const decoded = {
      ...header,
      occurredAt: new Date(NOW - 5000),
      ticketId: 't-9',
      status: 'RESOLVED',
      priority: null,
      satisfactionScore: null,
    };
    const result = normaliseDecoded('support-ticket', decoded, msg('support-ticket', {}), compileIngestPolicy(), NOW);
    expect(result.ok && result.event).toMatchObject({ occurredAt: NOW - 5000, supportTicket: { priority: 'NORMAL', satisfactionScore: null } });
  });

  it('round-trip through the customer-event Avro type', () => {
    const event = accept('purchase', {
      ...header,
      orderId: 'o',
      amountMinor: 1,
      currency: 'JPY',
      items: [{ sku: 's', category: 'c', quantity: 1, unitPriceMinor: 1 }],
    }, rates);
    expect(customerEventType.fromBuffer(customerEventType.toBuffer(event))).toEqual(event);
  });

  it('throw for impossible source positions and kinds (caller bugs, not bad input)', () => {
    const policy = compileIngestPolicy();
    const bad = { ...msg('purchase', {}), offset: 'latest' };
    expect(() => normaliseJson(bad, policy, NOW)).toThrow(InvalidSourcePositionError);
    expect(() => normaliseDecoded('refund' as RawKind, {}, msg('purchase', {}), policy, NOW)).toThrow(InvalidRawKindError);
  });

  it('map raw topics to kinds', () => {
    const kinds = rawKindsByTopic({ purchases: 'p', emailClicks: 'e', supportTickets: 's' });
    expect([...kinds]).toEqual([['p', 'purchase'], ['e', 'email-click'], ['s', 'support-ticket']]);
  });
});
