import { buildCatalog } from './catalog';
import { nextCampaign } from './campaigns';
import { buildEmailClick, buildPurchase, buildTicketOpened, type BuildContext } from './events';
import { DEFAULT_STOREFRONT_TOPICS, topicFor } from './options';
import { PERSONAS } from './personas';
import type { CustomerProfile } from './population';
import { createRng, type Rng } from './prng';
import { EVENT_KINDS, type EventKind, type RawEvent, type RawPurchase, type StorefrontTopics } from './types';

/** Inputs a malformation may use besides the valid event it corrupts. */
export interface MalformationContext {
  now: number;
  rng: Rng;
}

/** One way a raw message can be bad. */
export interface Malformation {
  /** Stable kebab-case name, e.g. `truncated-json`. */
  name: string;
  /** What is wrong, for humans and test titles. */
  description: string;
  /** Event kinds (topics) this malformation applies to. */
  kinds: readonly EventKind[];
  /**
   * False for entries that cannot appear in the live stream: the tombstone (a null value)
   * and the > 1 MiB message, which the stream only emits with `includeOversize`.
   */
  inStream: boolean;
  /** Produces the bad bytes (null = tombstone) from a valid event of one of `kinds`. */
  make(valid: RawEvent, ctx: MalformationContext): Buffer | null;
}

/** Size of the oversize message: just over the 1 MiB that brokers and ingest allow by default. */
export const OVERSIZE_BYTES = 1024 * 1024 + 1024;

const ALL = EVENT_KINDS;
const PURCHASE: readonly EventKind[] = ['purchase'];

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const withField = (valid: RawEvent, field: string, value: unknown): Buffer => json({ ...valid, [field]: value });
const without = (valid: RawEvent, field: string): Buffer => {
  const copy: Record<string, unknown> = { ...valid };
  delete copy[field];
  return json(copy);
};
/** Replaces a field's JSON value with raw text that JSON.stringify cannot express (NaN, 10^23). */
const withRawField = (valid: RawEvent, field: string, rawText: string): Buffer => {
  const marker = '__RAW_VALUE__';
  return Buffer.from(JSON.stringify({ ...valid, [field]: marker }).replace(`"${marker}"`, rawText), 'utf8');
};
const purchaseOf = (valid: RawEvent): RawPurchase => valid as RawPurchase;
const idFieldOf = (valid: RawEvent): 'orderId' | 'emailId' | 'ticketId' =>
  'orderId' in valid ? 'orderId' : 'emailId' in valid ? 'emailId' : 'ticketId';

const DAY_MS = 86_400_000;

/**
 * The catalogue of malformed messages. Each entry corrupts exactly one thing about an
 * otherwise valid event, so a bad-input test can expect one specific reject reason.
 */
export const MALFORMATIONS: readonly Malformation[] = Object.freeze([
  {
    name: 'truncated-json', description: 'JSON cut off half-way (producer crashed mid-write)', kinds: ALL, inStream: true,
    make: (v) => {
      const bytes = json(v);
      return bytes.subarray(0, Math.floor(bytes.length / 2));
    },
  },
  {
    name: 'not-json', description: 'a CSV line instead of JSON', kinds: ALL, inStream: true,
    make: (v) => Buffer.from(`${v.eventId},${v.customerId},${String(v.occurredAt)}\n`, 'utf8'),
  },
  { name: 'json-array', description: 'a JSON array holding the event instead of an object', kinds: ALL, inStream: true, make: (v) => json([v]) },
  { name: 'json-null', description: 'the JSON literal null', kinds: ALL, inStream: true, make: () => Buffer.from('null', 'utf8') },
  { name: 'missing-customer-id', description: 'customerId absent', kinds: ALL, inStream: true, make: (v) => without(v, 'customerId') },
  { name: 'missing-event-id', description: 'eventId absent', kinds: ALL, inStream: true, make: (v) => without(v, 'eventId') },
  { name: 'missing-occurred-at', description: 'occurredAt absent', kinds: ALL, inStream: true, make: (v) => without(v, 'occurredAt') },
  { name: 'customer-id-wrong-type', description: 'customerId is a number', kinds: ALL, inStream: true, make: (v) => withField(v, 'customerId', 42) },
  { name: 'bad-customer-id-format', description: 'customerId not c-<digits>', kinds: ALL, inStream: true, make: (v) => withField(v, 'customerId', 'cust_42') },
  {
    name: 'far-future-timestamp', description: 'occurredAt 400 days ahead of now', kinds: ALL, inStream: true,
    make: (v, { now }) => withField(v, 'occurredAt', new Date(now + 400 * DAY_MS).toISOString()),
  },
  { name: 'ancient-timestamp', description: 'occurredAt in 1999', kinds: ALL, inStream: true, make: (v) => withField(v, 'occurredAt', '1999-12-31T23:59:59.000Z') },
  {
    name: 'epoch-seconds-timestamp', description: 'occurredAt in epoch seconds, i.e. January 1970 when read as millis', kinds: ALL, inStream: true,
    make: (v, { now }) => withField(v, 'occurredAt', Math.floor(now / 1000)),
  },
  { name: 'invalid-date-string', description: 'occurredAt with month 13 and hour 25', kinds: ALL, inStream: true, make: (v) => withField(v, 'occurredAt', '2026-13-45T25:61:00Z') },
  {
    name: 'invalid-utf8', description: 'valid JSON structure, but an id string holds bytes that are not UTF-8', kinds: ALL, inStream: true,
    make: (v) => {
      const field = idFieldOf(v);
      const marker = '__BAD_UTF8__';
      const text = JSON.stringify({ ...v, [field]: `${(v as unknown as Record<string, string>)[field]}${marker}` });
      const at = text.indexOf(marker);
      // 0xC3 0x28 is a truncated two-byte sequence; 0xFF never occurs in UTF-8.
      return Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(text.slice(at + marker.length), 'utf8')]);
    },
  },
  { name: 'empty-value', description: 'a zero-length value', kinds: ALL, inStream: true, make: () => Buffer.alloc(0) },
  { name: 'null-value', description: 'a tombstone (null value) on a raw topic', kinds: ALL, inStream: false, make: () => null },
  {
    name: 'oversize', description: `a valid-looking order with so many lines it exceeds 1 MiB (${OVERSIZE_BYTES} bytes or more)`, kinds: PURCHASE, inStream: false,
    make: (v) => {
      const p = purchaseOf(v);
      const template = p.items[0] ?? { sku: 'SKU-GRO-0001', category: 'grocery', quantity: 1, unitPriceMinor: 99 };
      const lineBytes = JSON.stringify(template).length + 1;
      const count = Math.ceil(OVERSIZE_BYTES / lineBytes) + 1;
      const items = Array.from({ length: count }, (_, i) => ({ ...template, sku: `${template.sku}-${i}` }));
      return json({ ...p, items, amountMinor: items.reduce((s, it) => s + it.quantity * it.unitPriceMinor, 0) });
    },
  },
  { name: 'amount-as-string', description: 'amountMinor is a string', kinds: PURCHASE, inStream: true, make: (v) => withField(v, 'amountMinor', String(purchaseOf(v).amountMinor)) },
  { name: 'negative-amount', description: 'amountMinor below zero', kinds: PURCHASE, inStream: true, make: (v) => withField(v, 'amountMinor', -purchaseOf(v).amountMinor) },
  { name: 'nan-amount', description: 'amountMinor is the bare token NaN (as Python json.dumps writes it): not JSON', kinds: PURCHASE, inStream: true, make: (v) => withRawField(v, 'amountMinor', 'NaN') },
  { name: 'null-amount', description: 'amountMinor null (what JSON.stringify writes for NaN)', kinds: PURCHASE, inStream: true, make: (v) => withField(v, 'amountMinor', null) },
  { name: 'huge-amount', description: 'amountMinor 10^23: beyond a 64-bit long and exact JS integers', kinds: PURCHASE, inStream: true, make: (v) => withRawField(v, 'amountMinor', '100000000000000000000000') },
  {
    name: 'float-amount', description: 'amountMinor has a fraction (major units sent by mistake)', kinds: PURCHASE, inStream: true,
    // Always a fraction: `amount / 100 + 0.01` is whole for amounts ending in 99 (4999 → 50), which ingest rightly accepts.
    make: (v) => withField(v, 'amountMinor', Math.trunc(purchaseOf(v).amountMinor / 100) + 0.25),
  },
  { name: 'unknown-currency', description: 'currency is not an ISO 4217 code', kinds: PURCHASE, inStream: true, make: (v) => withField(v, 'currency', 'ZZZ') },
  {
    name: 'quantity-zero', description: 'an order line with quantity 0 (amount still consistent)', kinds: PURCHASE, inStream: true,
    make: (v) => {
      const p = purchaseOf(v);
      const items = p.items.map((it, i) => (i === 0 ? { ...it, quantity: 0 } : it));
      return json({ ...p, items, amountMinor: items.reduce((s, it) => s + it.quantity * it.unitPriceMinor, 0) });
    },
  },
  { name: 'items-not-array', description: 'items is a string', kinds: PURCHASE, inStream: true, make: (v) => withField(v, 'items', purchaseOf(v).items[0]?.sku ?? 'SKU-GRO-0001') },
  { name: 'missing-campaign-id', description: 'campaignId absent', kinds: ['email-click'], inStream: true, make: (v) => without(v, 'campaignId') },
  {
    name: 'satisfaction-out-of-range', description: 'resolved ticket with satisfactionScore 9 (scale is 1–5)', kinds: ['support-ticket'], inStream: true,
    make: (v) => json({ ...v, status: 'resolved', satisfactionScore: 9 }),
  },
  { name: 'unknown-status', description: 'ticket status "escalated"', kinds: ['support-ticket'], inStream: true, make: (v) => withField(v, 'status', 'escalated') },
] satisfies Malformation[]);

/** One entry of the malformed corpus. */
export interface MalformedSample {
  name: string;
  description: string;
  topic: string;
  kind: EventKind;
  value: Buffer | null;
}

/** Options of {@link allMalformed}. */
export interface AllMalformedOptions {
  /** Raw topic names (default: the storefront defaults). */
  topics?: Partial<StorefrontTopics>;
  /** Include the > 1 MiB message (default true). */
  includeOversize?: boolean;
  /** Seed of the valid events that get corrupted (default 42). */
  seed?: number;
}

/** The fixed customer every corpus event belongs to. */
const SAMPLE_CUSTOMER: CustomerProfile = {
  customerId: 'c-000042',
  persona: PERSONAS.find((p) => p.name === 'loyal-regular') ?? (PERSONAS[0] as CustomerProfile['persona']),
  currency: 'EUR',
  rank: 1,
  activity: 1,
  quietAt: null,
  firstName: 'Jane',
  lastName: 'Doe',
};

/** Builds a valid event of `kind` for `now`, for a malformation to corrupt. */
export function validBase(kind: EventKind, ctx: BuildContext, customer: CustomerProfile, now: number): RawEvent {
  const at = new Date(now).toISOString();
  if (kind === 'purchase') return buildPurchase(ctx, customer, at);
  if (kind === 'email-click') return buildEmailClick(ctx, customer, nextCampaign(now, null, ctx.rng), at);
  return buildTicketOpened(ctx, customer, at);
}

/**
 * Every malformation applied to every kind it fits, deterministically: the corpus for
 * bad-input tests. Same `now` and options → byte-identical values.
 *
 * @example
 * for (const bad of allMalformed(Date.now())) await produce(bad.topic, bad.value);
 */
export function allMalformed(now: number, options: AllMalformedOptions = {}): MalformedSample[] {
  const topics = { ...DEFAULT_STOREFRONT_TOPICS, ...options.topics };
  const seed = options.seed ?? 42;
  const ctx: BuildContext = { rng: createRng(seed, 7), catalog: buildCatalog(createRng(seed, 1)), seed, personalDataRatio: 0 };
  const out: MalformedSample[] = [];
  for (const m of MALFORMATIONS) {
    if (m.name === 'oversize' && options.includeOversize === false) continue;
    for (const kind of m.kinds) {
      const valid = validBase(kind, ctx, SAMPLE_CUSTOMER, now);
      out.push({ name: m.name, description: m.description, topic: topicFor(topics, kind), kind, value: m.make(valid, { now, rng: ctx.rng }) });
    }
  }
  return out;
}
