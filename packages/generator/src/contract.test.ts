import { createStorefront } from './storefront';
import { allMalformed, MALFORMATIONS, OVERSIZE_BYTES } from './malformations';
import { CURRENCIES } from './catalog';
import type { EventKind } from './types';

/**
 * An independent, strict reading of the raw JSON contract (the brief ingest validates
 * against). Returns what is wrong; empty means valid. Kept here rather than exported:
 * ingest-core owns the real validator, this only checks the generator against the spec.
 */
function violations(kind: EventKind, value: Buffer | null, now: number): string[] {
  if (value === null) return ['null value'];
  if (value.length === 0) return ['empty'];
  if (value.length > 1024 * 1024) return ['oversize'];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return ['not utf-8'];
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return ['not json'];
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['not an object'];
  const o = doc as Record<string, unknown>;
  const out: string[] = [];
  const str = (f: string): boolean => typeof o[f] === 'string' && (o[f] as string).length > 0;
  const safeInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  const allowed = new Set(['eventId', 'customerId', 'occurredAt']);

  if (!str('eventId') || !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(o.eventId as string)) out.push('eventId');
  if (!str('customerId') || !/^c-\d{6,}$/.test(o.customerId as string)) out.push('customerId');
  const at = o.occurredAt;
  let ms = NaN;
  if (typeof at === 'number' && Number.isSafeInteger(at)) ms = at;
  else if (typeof at === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(at)) {
    ms = Date.parse(at);
    if (!Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) !== at.slice(0, 19)) ms = NaN; // rolled-over date
  }
  // Within a day in the past (lateness) and a minute in the future (clock skew).
  if (!(ms >= now - 86_400_000 && ms <= now + 60_000)) out.push('occurredAt');

  if (kind === 'purchase') {
    ['orderId', 'amountMinor', 'currency', 'items', 'channel'].forEach((f) => allowed.add(f));
    if (!str('orderId')) out.push('orderId');
    if (!safeInt(o.amountMinor, 0)) out.push('amountMinor');
    if (typeof o.currency !== 'string' || !(o.currency in CURRENCIES)) out.push('currency');
    if (!['web', 'mobile_app', 'store', 'marketplace'].includes(o.channel as string)) out.push('channel');
    if (!Array.isArray(o.items) || o.items.length === 0) out.push('items');
    else {
      let sum = 0;
      o.items.forEach((it: Record<string, unknown>, i) => {
        if (typeof it !== 'object' || it === null) return out.push(`items[${i}]`);
        if (typeof it.sku !== 'string' || typeof it.category !== 'string') out.push(`items[${i}].sku`);
        if (!safeInt(it.quantity, 1)) out.push(`items[${i}].quantity`);
        if (!safeInt(it.unitPriceMinor, 0)) out.push(`items[${i}].unitPriceMinor`);
        sum += (it.quantity as number) * (it.unitPriceMinor as number);
      });
      if (sum !== o.amountMinor && !out.includes('amountMinor')) out.push('amountMinor != sum');
    }
  } else if (kind === 'email-click') {
    ['campaignId', 'emailId', 'url', 'email', 'customerName'].forEach((f) => allowed.add(f));
    if (!str('campaignId') || !/^cmp-\d{4}-\d{2}-[a-z-]+$/.test(o.campaignId as string)) out.push('campaignId');
    if (!str('emailId')) out.push('emailId');
    if (!str('url') || new URL(o.url as string).protocol !== 'https:') out.push('url');
    if ('email' in o && !/@example\.(com|org|net)$/.test(String(o.email))) out.push('email not example.*');
  } else {
    ['ticketId', 'status', 'priority', 'satisfactionScore'].forEach((f) => allowed.add(f));
    if (!str('ticketId')) out.push('ticketId');
    if (!['opened', 'resolved'].includes(o.status as string)) out.push('status');
    if (!['low', 'normal', 'high', 'urgent'].includes(o.priority as string)) out.push('priority');
    if ('satisfactionScore' in o) {
      if (!safeInt(o.satisfactionScore, 1) || (o.satisfactionScore as number) > 5) out.push('satisfactionScore');
      if (o.status !== 'resolved') out.push('satisfactionScore on open ticket');
    }
  }
  for (const f of Object.keys(o)) if (!allowed.has(f)) out.push(`unknown field ${f}`);
  return out;
}

const START = Date.parse('2026-11-27T09:00:00.000Z');

describe('valid messages follow the raw JSON contract', () => {
  it('10k messages from several seeds have no violations', () => {
    for (const seed of [1, 2, 3]) {
      const shop = createStorefront({ seed, startAt: START, malformedRatio: 0 });
      let now = START;
      for (let i = 0; i < 10_000; i++) {
        now += 37;
        const m = shop.next(now);
        const v = violations(m.kind, m.value, now);
        if (v.length > 0) throw new Error(`seed ${seed} #${i} ${m.kind}: ${v.join(', ')} in ${m.value.toString()}`);
        const parsed = JSON.parse(m.value.toString('utf8')) as { customerId: string; eventId: string };
        expect(parsed.customerId).toBe(m.customerId);
        expect(parsed.eventId).toBe(m.eventId);
        expect(m.malformed).toBeUndefined();
      }
    }
  });

  it('routes each kind to its topic and keys by the order/email/ticket id (or no key)', () => {
    const shop = createStorefront({ seed: 9, startAt: START, malformedRatio: 0, topics: { emailClicks: 'x.clicks' } });
    const idField = { purchase: 'orderId', 'email-click': 'emailId', 'support-ticket': 'ticketId' } as const;
    const topic = { purchase: 'storefront.purchases', 'email-click': 'x.clicks', 'support-ticket': 'storefront.support-tickets' };
    let nullKeys = 0;
    for (let i = 0; i < 2000; i++) {
      const m = shop.next(START + i);
      expect(m.topic).toBe(topic[m.kind]);
      if (m.key === null) nullKeys++;
      else expect(m.key).toBe((JSON.parse(m.value.toString()) as Record<string, string>)[idField[m.kind]]);
    }
    expect(nullKeys).toBeGreaterThan(100);
    expect(nullKeys).toBeLessThan(300);
  });

  it('prices are whole minor units: JPY whole yen (tens), others x.99', () => {
    const shop = createStorefront({ seed: 4, startAt: START, malformedRatio: 0 });
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const m = shop.next(START + i);
      if (m.kind !== 'purchase') continue;
      const p = JSON.parse(m.value.toString()) as { currency: string; items: { unitPriceMinor: number }[] };
      seen.add(p.currency);
      for (const it of p.items) {
        if (p.currency === 'JPY') expect(it.unitPriceMinor % 10).toBe(0);
        else expect(it.unitPriceMinor % 100).toBe(99);
      }
    }
    expect([...seen].sort()).toEqual(['CHF', 'EUR', 'GBP', 'JPY', 'SEK', 'USD']);
  });
});

describe('MALFORMATIONS', () => {
  const NOW = START + 3_600_000;
  const corpus = allMalformed(NOW);

  it('has unique names and covers every entry × kind exactly once', () => {
    const names = MALFORMATIONS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(corpus.length).toBe(MALFORMATIONS.reduce((n, m) => n + m.kinds.length, 0));
    for (const m of MALFORMATIONS) for (const kind of m.kinds) expect(corpus.filter((c) => c.name === m.name && c.kind === kind)).toHaveLength(1);
  });

  it.each(corpus.map((c) => [`${c.name} (${c.kind})`, c] as const))('%s is invalid', (_title, sample) => {
    expect(violations(sample.kind, sample.value, NOW)).not.toEqual([]);
  });

  it('JSON-level entries really fail JSON.parse; field-level ones parse but break one field', () => {
    const parseFails = ['truncated-json', 'not-json', 'nan-amount'];
    for (const c of corpus) {
      if (parseFails.includes(c.name)) expect(() => JSON.parse((c.value as Buffer).toString('utf8'))).toThrow();
    }
    const byName = (name: string) => corpus.find((c) => c.name === name) as (typeof corpus)[number];
    expect(violations('purchase', byName('quantity-zero').value, NOW)).toEqual(['items[0].quantity']);
    expect(violations('purchase', byName('unknown-currency').value, NOW)).toEqual(['currency']);
    expect(violations('support-ticket', byName('satisfaction-out-of-range').value, NOW)).toEqual(['satisfactionScore']);
    expect(violations('support-ticket', byName('unknown-status').value, NOW)).toEqual(['status']);
    expect(violations('email-click', byName('missing-campaign-id').value, NOW)).toEqual(['campaignId']);
  });

  it('invalid-utf8 decodes only lossily', () => {
    for (const c of corpus.filter((x) => x.name === 'invalid-utf8')) {
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(c.value as Buffer)).toThrow();
      // A lenient decoder hides the damage, which is why ingest must decode strictly.
      expect(() => JSON.parse((c.value as Buffer).toString('utf8'))).not.toThrow();
    }
  });

  it('oversize exceeds 1 MiB, and only when asked', () => {
    const oversize = corpus.find((c) => c.name === 'oversize');
    expect(oversize?.value?.length).toBeGreaterThan(OVERSIZE_BYTES - 1);
    expect(allMalformed(NOW, { includeOversize: false }).some((c) => c.name === 'oversize')).toBe(false);
  });

  it('is deterministic for the same now', () => {
    const again = allMalformed(NOW);
    expect(again.map((c) => [c.name, c.kind, c.topic, c.value?.toString('base64')])).toEqual(
      corpus.map((c) => [c.name, c.kind, c.topic, c.value?.toString('base64')]),
    );
  });

  it('stream malformations are invalid too, and name their entry', () => {
    const shop = createStorefront({ seed: 5, startAt: START, malformedRatio: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const now = START + i * 10;
      const m = shop.next(now);
      expect(m.malformed).toBeDefined();
      expect(m.customerId).toBeUndefined();
      seen.add(m.malformed as string);
      expect(violations(m.kind, m.value, now)).not.toEqual([]);
    }
    const streamable = MALFORMATIONS.filter((m) => m.inStream).map((m) => m.name);
    expect([...seen].sort()).toEqual([...streamable].sort());
  });
});
