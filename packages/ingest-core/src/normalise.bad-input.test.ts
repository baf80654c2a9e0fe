import { compileIngestPolicy, normaliseDecoded, normaliseJson, REJECT_REASONS, type IngestPolicyOptions, type RawKind, type RawMessage, type RejectReason } from './index';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const TOPIC: Record<RawKind, string> = {
  purchase: 'storefront.purchases',
  'email-click': 'storefront.email-clicks',
  'support-ticket': 'storefront.support-tickets',
};

/** Personal data planted in every base message: no reject message may repeat any of it. */
const PERSONAL = { email: 'jane.doe@example.com', name: 'Jane Doe', phone: '+1 555 0100' };
const PERSONAL_FRAGMENTS = ['jane', 'Jane', 'Doe', '555', 'example.com'];

const header = { eventId: 'evt-1', customerId: 'cust-42', occurredAt: '2024-05-01T11:00:00Z', ...PERSONAL };
const BASE: Record<RawKind, Record<string, unknown>> = {
  purchase: {
    ...header,
    orderId: 'ord-1',
    amountMinor: 2500,
    currency: 'usd',
    items: [{ sku: 'sku-1', category: 'shoes', quantity: 1, unitPriceMinor: 2500 }],
    channel: 'web',
  },
  'email-click': { ...header, campaignId: 'cmp-1', emailId: 'msg-1', url: 'https://shop.example.org/p/1?u=jane.doe%40example.com' },
  'support-ticket': { ...header, ticketId: 't-1', status: 'resolved', priority: 'high', satisfactionScore: 4 },
};

type Patch = Record<string, unknown>;
const DELETE = Symbol('delete');

/** Applies `{ 'items[0].quantity': 0, eventId: DELETE }`-style patches to a deep copy. */
function patched(kind: RawKind, patch: Patch): Record<string, unknown> {
  const obj = structuredClone(BASE[kind]);
  for (const [path, value] of Object.entries(patch)) {
    const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
    let target = obj as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) target = target[k] as Record<string, unknown>;
    const last = keys[keys.length - 1] as string;
    if (value === DELETE) delete target[last];
    else target[last] = value;
  }
  return obj;
}

function message(kind: RawKind, value: Buffer | null): RawMessage {
  return { kind, value, key: null, topic: TOPIC[kind], partition: 3, offset: '42' };
}

interface BadCase {
  name: string;
  kind: RawKind;
  /** A patch of the kind's base message, or raw bytes/text used as the whole value. */
  input: Patch | Buffer | string | null;
  reason: RejectReason;
  path?: string;
  policy?: IngestPolicyOptions;
  /** Feed the patched object to normaliseDecoded (as an Avro decoder would) instead of JSON. */
  decoded?: boolean;
  messageIncludes?: string;
}

const P: RawKind = 'purchase';
const E: RawKind = 'email-click';
const T: RawKind = 'support-ticket';
const framed = Buffer.from([0, 0, 0, 0, 7, 2, 4, 6]);
/** Issue 14, finding 1: a 1.5 MB JSON value (raw topics accept 2 MiB), over the 1 MB ingest limit. */
const ONE_AND_A_HALF_MB = Buffer.from(JSON.stringify({ ...BASE.purchase, note: 'x'.repeat(1_500_000) }));
/** Nesting bombs: a megabyte of '[' never reaches JSON.parse. */
const deepArrays = (depth: number) => `{"eventId":"evt-1","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;

const CASES: BadCase[] = [
  // envelope and format
  { name: 'null value (tombstone)', kind: P, input: null, reason: 'EMPTY_VALUE' },
  { name: 'zero-byte value', kind: P, input: Buffer.alloc(0), reason: 'EMPTY_VALUE' },
  { name: 'value over maxMessageBytes', kind: P, input: {}, reason: 'OVERSIZE', policy: { maxMessageBytes: 64 } },
  { name: '1.5 MB JSON value under the 1 MB default limit (issue 14)', kind: P, input: ONE_AND_A_HALF_MB, reason: 'OVERSIZE', policy: { maxMessageBytes: 1_000_000 }, messageIncludes: 'the limit is 1000000' },
  { name: 'JSON nested 33 levels (limit 32)', kind: P, input: deepArrays(32), reason: 'LIMIT_EXCEEDED', messageIncludes: 'deeper than 32 levels' },
  { name: 'JSON nested a megabyte deep', kind: E, input: Buffer.from(deepArrays(500_000)), reason: 'LIMIT_EXCEEDED', policy: { maxMessageBytes: 2_000_000 } },
  { name: 'JSON objects nested deeper than a configured limit', kind: T, input: `{"a":${'{"a":'.repeat(8)}1${'}'.repeat(8)}}`, reason: 'LIMIT_EXCEEDED', policy: { maxJsonDepth: 8 } },
  { name: 'Confluent-framed Avro on the JSON path', kind: P, input: framed, reason: 'UNSUPPORTED_FORMAT' },
  { name: 'invalid UTF-8', kind: P, input: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reason: 'INVALID_UTF8' },
  { name: 'truncated JSON', kind: P, input: '{"eventId": "evt-1", "name": "Jane Doe", ', reason: 'MALFORMED_JSON' },
  { name: 'not JSON at all', kind: E, input: 'jane.doe@example.com,cmp-1', reason: 'MALFORMED_JSON' },
  { name: 'JSON array', kind: P, input: '[{"eventId":"evt-1"}]', reason: 'NOT_AN_OBJECT' },
  { name: 'JSON string', kind: T, input: '"Jane Doe"', reason: 'NOT_AN_OBJECT' },
  { name: 'JSON null', kind: T, input: 'null', reason: 'NOT_AN_OBJECT' },
  // header fields
  { name: 'eventId absent', kind: P, input: { eventId: DELETE }, reason: 'MISSING_FIELD', path: 'eventId' },
  { name: 'eventId null', kind: E, input: { eventId: null }, reason: 'MISSING_FIELD', path: 'eventId' },
  { name: 'eventId a number', kind: T, input: { eventId: 17 }, reason: 'WRONG_TYPE', path: 'eventId' },
  { name: 'eventId empty', kind: P, input: { eventId: '' }, reason: 'INVALID_EVENT_ID', path: 'eventId' },
  { name: 'eventId with a space', kind: P, input: { eventId: 'evt 1' }, reason: 'INVALID_EVENT_ID', path: 'eventId' },
  { name: 'eventId of 129 characters', kind: P, input: { eventId: 'e'.repeat(129) }, reason: 'INVALID_EVENT_ID', path: 'eventId' },
  { name: 'eventId with a control character', kind: P, input: { eventId: 'evt\u0000-1' }, reason: 'INVALID_EVENT_ID', path: 'eventId' },
  { name: 'customerId absent', kind: P, input: { customerId: DELETE }, reason: 'MISSING_FIELD', path: 'customerId' },
  { name: 'customerId a number', kind: E, input: { customerId: 12345 }, reason: 'WRONG_TYPE', path: 'customerId' },
  { name: 'customerId is an email address', kind: P, input: { customerId: 'jane.doe@example.com' }, reason: 'INVALID_CUSTOMER_ID', path: 'customerId' },
  { name: 'customerId starts with a dash', kind: T, input: { customerId: '-c42' }, reason: 'INVALID_CUSTOMER_ID', path: 'customerId' },
  { name: 'customerId only partly matches a custom pattern', kind: T, input: { customerId: 'C-1x' }, reason: 'INVALID_CUSTOMER_ID', path: 'customerId', policy: { customerIdPattern: /C-\d+/ } },
  { name: 'occurredAt absent', kind: P, input: { occurredAt: DELETE }, reason: 'MISSING_FIELD', path: 'occurredAt' },
  { name: 'occurredAt a boolean', kind: P, input: { occurredAt: true }, reason: 'WRONG_TYPE', path: 'occurredAt' },
  { name: 'occurredAt without a zone', kind: P, input: { occurredAt: '2024-05-01T11:00:00' }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt with a space separator', kind: E, input: { occurredAt: '2024-05-01 11:00:00Z' }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt on 30 February', kind: P, input: { occurredAt: '2024-02-30T00:00:00Z' }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt a numeric string', kind: P, input: { occurredAt: String(NOW) }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt fractional millis', kind: T, input: { occurredAt: NOW - 0.5 }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt negative', kind: T, input: { occurredAt: -1 }, reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
  { name: 'occurredAt older than the lateness', kind: P, input: { occurredAt: '2024-01-01T00:00:00Z' }, reason: 'TIMESTAMP_TOO_OLD', path: 'occurredAt' },
  { name: 'occurredAt in epoch seconds', kind: E, input: { occurredAt: Math.floor(NOW / 1000) }, reason: 'TIMESTAMP_TOO_OLD', path: 'occurredAt', messageIncludes: 'epoch seconds' },
  { name: 'occurredAt ten minutes ahead', kind: T, input: { occurredAt: NOW + 600_000 }, reason: 'TIMESTAMP_IN_FUTURE', path: 'occurredAt' },
  // purchase
  { name: 'orderId absent', kind: P, input: { orderId: DELETE }, reason: 'MISSING_FIELD', path: 'orderId' },
  { name: 'orderId empty', kind: P, input: { orderId: '' }, reason: 'INVALID_ID', path: 'orderId' },
  { name: 'decimal amount instead of amountMinor', kind: P, input: { amountMinor: DELETE, amount: 25.0 }, reason: 'MISSING_FIELD', path: 'amountMinor', messageIncludes: 'minor units' },
  { name: 'amountMinor a string', kind: P, input: { amountMinor: '2500' }, reason: 'WRONG_TYPE', path: 'amountMinor' },
  { name: 'amountMinor negative', kind: P, input: { amountMinor: -1 }, reason: 'NEGATIVE_AMOUNT', path: 'amountMinor' },
  { name: 'amountMinor fractional', kind: P, input: { amountMinor: 25.5 }, reason: 'AMOUNT_NOT_INTEGER', path: 'amountMinor' },
  { name: 'amountMinor above the maximum', kind: P, input: { amountMinor: 1e16 }, reason: 'AMOUNT_TOO_LARGE', path: 'amountMinor' },
  { name: 'amountMinor infinite (Avro double)', kind: P, input: { amountMinor: Infinity }, reason: 'NON_FINITE_AMOUNT', path: 'amountMinor', decoded: true },
  { name: 'amountMinor NaN (Avro double)', kind: P, input: { amountMinor: NaN }, reason: 'NON_FINITE_AMOUNT', path: 'amountMinor', decoded: true },
  { name: 'currency not ISO 4217', kind: P, input: { currency: 'XYZ' }, reason: 'UNKNOWN_CURRENCY', path: 'currency' },
  { name: 'currency of two letters', kind: P, input: { currency: 'US' }, reason: 'UNKNOWN_CURRENCY', path: 'currency' },
  { name: 'currency outside knownCurrencies', kind: P, input: { currency: 'GBP' }, reason: 'UNKNOWN_CURRENCY', path: 'currency', policy: { knownCurrencies: ['USD', 'EUR'] } },
  { name: 'currency numeric code', kind: P, input: { currency: 840 }, reason: 'WRONG_TYPE', path: 'currency' },
  { name: 'currency without a configured rate', kind: P, input: { currency: 'EUR' }, reason: 'NO_FX_RATE', path: 'currency' },
  { name: 'items an object', kind: P, input: { items: { sku: 'sku-1' } }, reason: 'WRONG_TYPE', path: 'items' },
  { name: 'more items than maxItems', kind: P, input: { items: [1, 2, 3] }, reason: 'TOO_MANY_ITEMS', path: 'items', policy: { maxItems: 2 } },
  { name: 'item not an object', kind: P, input: { 'items[1]': 'sku-2' }, reason: 'NOT_AN_OBJECT', path: 'items[1]' },
  { name: 'item quantity zero', kind: P, input: { 'items[0].quantity': 0 }, reason: 'OUT_OF_RANGE', path: 'items[0].quantity' },
  { name: 'item quantity negative', kind: P, input: { 'items[0].quantity': -3 }, reason: 'OUT_OF_RANGE', path: 'items[0].quantity' },
  { name: 'item quantity above int32', kind: P, input: { 'items[0].quantity': 2 ** 31 }, reason: 'OUT_OF_RANGE', path: 'items[0].quantity' },
  { name: 'item quantity fractional', kind: P, input: { 'items[0].quantity': 1.5 }, reason: 'WRONG_TYPE', path: 'items[0].quantity' },
  { name: 'item sku absent', kind: P, input: { 'items[0].sku': DELETE }, reason: 'MISSING_FIELD', path: 'items[0].sku' },
  { name: 'item category blank', kind: P, input: { 'items[0].category': '   ' }, reason: 'INVALID_TEXT', path: 'items[0].category' },
  { name: 'item category with a control character', kind: P, input: { 'items[0].category': 'shoes\u0007' }, reason: 'INVALID_TEXT', path: 'items[0].category' },
  { name: 'item unitPriceMinor negative', kind: P, input: { 'items[0].unitPriceMinor': -5 }, reason: 'NEGATIVE_AMOUNT', path: 'items[0].unitPriceMinor' },
  { name: 'items total differs when required to match', kind: P, input: { amountMinor: 3000 }, reason: 'AMOUNT_MISMATCH', path: 'amountMinor', policy: { requireItemsTotalMatch: true } },
  { name: 'channel a number', kind: P, input: { channel: 7 }, reason: 'WRONG_TYPE', path: 'channel' },
  {
    name: 'amount too large once converted to base',
    kind: P,
    // 9 000.00 USD at 150 JPY/USD is 1 350 000 yen: within the limit in USD, over it in JPY.
    input: { amountMinor: 900_000, items: DELETE },
    reason: 'AMOUNT_TOO_LARGE',
    path: 'amountMinor',
    policy: { baseCurrency: 'JPY', maxAmountMinor: 1_000_000, fxRatesToBase: { USD: 150 } },
  },
  // email click
  { name: 'campaignId absent', kind: E, input: { campaignId: DELETE }, reason: 'MISSING_FIELD', path: 'campaignId' },
  { name: 'emailId is an email address', kind: E, input: { emailId: 'jane.doe@example.com' }, reason: 'INVALID_ID', path: 'emailId' },
  { name: 'neither linkId nor url', kind: E, input: { url: DELETE }, reason: 'MISSING_FIELD', path: 'linkId' },
  { name: 'url a number', kind: E, input: { url: 5 }, reason: 'WRONG_TYPE', path: 'url' },
  { name: 'url with an invalid host', kind: E, input: { url: 'https://jane doe.example.com/x' }, reason: 'INVALID_URL', path: 'url' },
  { name: 'linkId only a query string', kind: E, input: { linkId: '?email=jane.doe@example.com' }, reason: 'INVALID_ID', path: 'linkId' },
  // support ticket
  { name: 'ticketId absent', kind: T, input: { ticketId: DELETE }, reason: 'MISSING_FIELD', path: 'ticketId' },
  { name: 'status absent', kind: T, input: { status: DELETE }, reason: 'MISSING_FIELD', path: 'status' },
  { name: 'status unknown', kind: T, input: { status: 'closed' }, reason: 'INVALID_ENUM', path: 'status' },
  { name: 'priority unknown', kind: T, input: { priority: 'critical' }, reason: 'INVALID_ENUM', path: 'priority' },
  { name: 'satisfactionScore 6', kind: T, input: { satisfactionScore: 6 }, reason: 'OUT_OF_RANGE', path: 'satisfactionScore' },
  { name: 'satisfactionScore 0', kind: T, input: { satisfactionScore: 0 }, reason: 'OUT_OF_RANGE', path: 'satisfactionScore' },
  { name: 'satisfactionScore a string', kind: T, input: { satisfactionScore: '5' }, reason: 'WRONG_TYPE', path: 'satisfactionScore' },
  { name: 'satisfactionScore fractional', kind: T, input: { satisfactionScore: 4.5 }, reason: 'WRONG_TYPE', path: 'satisfactionScore' },
];

function run(c: BadCase) {
  const policy = compileIngestPolicy(c.policy);
  if (c.decoded) {
    const obj = patched(c.kind, c.input as Patch);
    return normaliseDecoded(c.kind, obj, message(c.kind, Buffer.from('avro')), policy, NOW);
  }
  let value: Buffer | null;
  if (c.input === null || Buffer.isBuffer(c.input)) value = c.input;
  else if (typeof c.input === 'string') value = Buffer.from(c.input);
  else value = Buffer.from(JSON.stringify(patched(c.kind, c.input)));
  return normaliseJson(message(c.kind, value), policy, NOW);
}

describe('bad raw input is rejected with a stable reason', () => {
  it('has at least 40 cases and covers most reasons', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const covered = new Set(CASES.map((c) => c.reason));
    const adapterOnly: RejectReason[] = ['UNKNOWN_SCHEMA', 'MALFORMED_AVRO'];
    const uncovered = (Object.keys(REJECT_REASONS) as RejectReason[]).filter((r) => !covered.has(r) && !adapterOnly.includes(r));
    expect(uncovered).toEqual([]);
  });

  it.each(CASES)('$name → $reason', (c) => {
    const result = run(c);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect({ reason: result.reason, path: result.path }).toEqual({ reason: c.reason, path: c.path });
    if (c.path) expect(result.message.startsWith(`${c.path}: `)).toBe(true);
    if (c.messageIncludes) expect(result.message).toContain(c.messageIncludes);
    for (const fragment of PERSONAL_FRAGMENTS) expect(result.message).not.toContain(fragment);
  });
});
