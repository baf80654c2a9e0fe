import { createStorefront, type Storefront } from './storefront';
import { InvalidGeneratorOptionError } from './errors';
import type { GeneratedMessage, RawSupportTicket } from './types';

const START = Date.parse('2026-11-27T09:00:00.000Z');

function run(shop: Storefront, n: number, stepMs = 20, start = START): Array<GeneratedMessage & { now: number }> {
  const out: Array<GeneratedMessage & { now: number }> = [];
  for (let i = 1; i <= n; i++) {
    const now = start + i * stepMs;
    out.push({ ...shop.next(now), now });
  }
  return out;
}
const parse = <T = Record<string, unknown>>(m: GeneratedMessage): T => JSON.parse(m.value.toString('utf8')) as T;
const share = (xs: readonly unknown[], pred: (x: never) => boolean): number => xs.filter(pred as (x: unknown) => boolean).length / xs.length;

describe('createStorefront', () => {
  it('is deterministic: same seed and clock → byte-identical messages', () => {
    const a = run(createStorefront({ seed: 42, startAt: START, malformedRatio: 0.05 }), 3000);
    const b = run(createStorefront({ seed: 42, startAt: START, malformedRatio: 0.05 }), 3000);
    expect(b.map((m) => [m.topic, m.key, m.value.toString('base64'), m.malformed])).toEqual(
      a.map((m) => [m.topic, m.key, m.value.toString('base64'), m.malformed]),
    );
    const c = run(createStorefront({ seed: 43, startAt: START, malformedRatio: 0.05 }), 50);
    expect(c.map((m) => m.value.toString())).not.toEqual(a.slice(0, 50).map((m) => m.value.toString()));
  });

  it('counts messages and exposes the population', () => {
    const shop = createStorefront({ seed: 1, startAt: START, customers: 250 });
    run(shop, 10);
    expect(shop.generated).toBe(10);
    expect(shop.population).toHaveLength(250);
    expect(shop.population[0]?.customerId).toBe('c-000001');
    expect(shop.population[249]?.customerId).toBe('c-000250');
    expect(createStorefront({ seed: 1, startAt: START, customers: 1_234_567, quietRatio: 0 }).population[0]?.customerId).toBe('c-0000001');
  });

  it('keeps the event mix near 25/60/15 over 10k events', () => {
    for (const seed of [1, 2, 3]) {
      const msgs = run(createStorefront({ seed, startAt: START, malformedRatio: 0 }), 10_000);
      expect(Math.abs(share(msgs, (m: GeneratedMessage) => m.kind === 'purchase') - 0.25)).toBeLessThan(0.02);
      expect(Math.abs(share(msgs, (m: GeneratedMessage) => m.kind === 'email-click') - 0.6)).toBeLessThan(0.02);
      expect(Math.abs(share(msgs, (m: GeneratedMessage) => m.kind === 'support-ticket') - 0.15)).toBeLessThan(0.02);
    }
  });

  it('sends email in campaign bursts', () => {
    const msgs = run(createStorefront({ seed: 3, startAt: START, malformedRatio: 0, campaignCycleEvents: 1000 }), 10_000);
    const inBurst = msgs.filter((_, i) => i % 1000 < 250);
    const outside = msgs.filter((_, i) => i % 1000 >= 250);
    const burstShare = share(inBurst, (m: GeneratedMessage) => m.kind === 'email-click');
    const outsideShare = share(outside, (m: GeneratedMessage) => m.kind === 'email-click');
    expect(burstShare).toBeGreaterThan(outsideShare + 0.2);
    // A new campaign every cycle: the burst's clicks are all on that cycle's campaign.
    const burstCampaigns = Array.from({ length: 10 }, (_, cycle) =>
      new Set(msgs.slice(cycle * 1000, cycle * 1000 + 250).filter((m) => m.kind === 'email-click').map((m) => parse(m).campaignId)),
    );
    for (const set of burstCampaigns) expect(set.size).toBe(1);
    for (let c = 1; c < 10; c++) expect([...(burstCampaigns[c] as Set<unknown>)]).not.toEqual([...(burstCampaigns[c - 1] as Set<unknown>)]);
  });

  it('honours the mix option', () => {
    const msgs = run(createStorefront({ seed: 3, startAt: START, malformedRatio: 0, mix: { purchase: 1, emailClick: 0, supportTicket: 0 } }), 500);
    expect(msgs.every((m) => m.kind === 'purchase')).toBe(true);
  });

  it('skews activity (Zipf): the top 1% of customers make a clearly larger share', () => {
    const topShare = (skew: number): number => {
      const msgs = run(createStorefront({ seed: 11, startAt: START, malformedRatio: 0, activitySkew: skew, quietRatio: 0 }), 20_000);
      const counts = new Map<string, number>();
      for (const m of msgs) counts.set(m.customerId as string, (counts.get(m.customerId as string) ?? 0) + 1);
      const sorted = [...counts.values()].sort((x, y) => y - x);
      return sorted.slice(0, 10).reduce((s, n) => s + n, 0) / msgs.length;
    };
    const skewed = topShare(1.1);
    expect(skewed).toBeGreaterThan(0.25); // ~25× the 1% an even spread would give
    expect(topShare(0)).toBeLessThan(0.05);
  });

  it('honours the malformed ratio', () => {
    for (const ratio of [0.005, 0.05]) {
      const msgs = run(createStorefront({ seed: 8, startAt: START, malformedRatio: ratio }), 40_000);
      const observed = share(msgs, (m: GeneratedMessage) => m.malformed !== undefined);
      expect(observed).toBeGreaterThan(ratio * 0.7);
      expect(observed).toBeLessThan(ratio * 1.3);
    }
    expect(run(createStorefront({ seed: 8, startAt: START, malformedRatio: 0 }), 5000).some((m) => m.malformed)).toBe(false);
  });

  it('never emits the oversize message unless asked', () => {
    const plain = run(createStorefront({ seed: 2, startAt: START, malformedRatio: 1 }), 3000);
    expect(plain.some((m) => m.malformed === 'oversize')).toBe(false);
    const withOversize = run(createStorefront({ seed: 2, startAt: START, malformedRatio: 1, includeOversize: true }), 3000);
    const big = withOversize.filter((m) => m.malformed === 'oversize');
    expect(big.length).toBeGreaterThan(0);
    expect(big.length).toBeLessThan(30); // rare: weight 0.05 against 1 for the others
  });

  it('lets quiet customers go silent after their quietAt, and only them', () => {
    const shop = createStorefront({ seed: 5, startAt: START, malformedRatio: 0, quietAfterMs: { min: 10_000, max: 60_000 } });
    const quiet = shop.population.filter((c) => c.quietAt !== null);
    expect(quiet.length / shop.population.length).toBeGreaterThan(0.15);
    expect(quiet.length / shop.population.length).toBeLessThan(0.25);
    const byId = new Map(shop.population.map((c) => [c.customerId, c]));
    const msgs = run(shop, 20_000, 10); // 200 s
    for (const m of msgs) {
      const quietAt = byId.get(m.customerId as string)?.quietAt;
      if (quietAt != null) expect(m.now).toBeLessThan(quietAt);
    }
    // Quiet customers were active before going quiet.
    const activeBefore = new Set(msgs.filter((m) => m.now < START + 10_000).map((m) => m.customerId));
    expect(quiet.some((c) => activeBefore.has(c.customerId))).toBe(true);
  });

  it('rejects quietRatio 1 and other bad options with a coded error', () => {
    const bad: Array<Record<string, unknown>> = [
      { quietRatio: 1 },
      { malformedRatio: 1.5 },
      { customers: 0 },
      { customers: 2.5 },
      { activitySkew: -1 },
      { seed: Number.NaN },
      { startAt: Number.POSITIVE_INFINITY },
      { quietAfterMs: { min: 10, max: 5 } },
      { mix: { purchase: 0, emailClick: 0, supportTicket: 0 } },
      { topics: { purchases: '' } },
    ];
    for (const opts of bad) {
      let caught: unknown;
      try {
        createStorefront({ seed: 1, startAt: START, ...opts });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidGeneratorOptionError);
      expect((caught as InvalidGeneratorOptionError).code).toBe('GENERATOR_INVALID_OPTION');
      expect((caught as InvalidGeneratorOptionError).retriable).toBe(false);
    }
    expect(() => createStorefront({ seed: 1, startAt: START }).next(Number.NaN)).toThrow(InvalidGeneratorOptionError);
  });

  it('keeps a one-customer store with quietRatio near 1 alive', () => {
    const shop = createStorefront({ seed: 1, startAt: START, customers: 1, quietRatio: 0.99 });
    expect(shop.population[0]?.quietAt).toBeNull();
    expect(run(shop, 100, 10_000).filter((m) => !m.malformed).every((m) => m.customerId === 'c-000001')).toBe(true);
  });

  it('stamps occurredAt near now, a few percent late, in both formats', () => {
    const msgs = run(createStorefront({ seed: 6, startAt: START, malformedRatio: 0 }), 10_000);
    let iso = 0;
    let late = 0;
    for (const m of msgs) {
      const at = parse(m).occurredAt as string | number;
      if (typeof at === 'string') iso++;
      const ms = typeof at === 'string' ? Date.parse(at) : at;
      expect(ms).toBeLessThanOrEqual(m.now);
      expect(ms).toBeGreaterThanOrEqual(m.now - 300_000);
      if (m.now - ms > 1000) late++;
    }
    expect(iso / msgs.length).toBeGreaterThan(0.45);
    expect(iso / msgs.length).toBeLessThan(0.55);
    expect(late / msgs.length).toBeGreaterThan(0.02);
    expect(late / msgs.length).toBeLessThan(0.04);
  });

  it('makes tickets follow purchases: resolutions match an earlier opening, CSAT skews positive', () => {
    const shop = createStorefront({ seed: 7, startAt: START, malformedRatio: 0 });
    const msgs = run(shop, 30_000);
    const opened = new Map<string, string>();
    const buyers = new Set<string>();
    let openedByBuyer = 0;
    let openedTotal = 0;
    const scores: number[] = [];
    const unhappyScores: number[] = [];
    const persona = new Map(shop.population.map((c) => [c.customerId, c.persona.name]));
    for (const m of msgs) {
      if (m.kind === 'purchase') buyers.add(m.customerId as string);
      if (m.kind !== 'support-ticket') continue;
      const t = parse<RawSupportTicket>(m);
      if (t.status === 'opened') {
        opened.set(t.ticketId, t.customerId);
        openedTotal++;
        if (buyers.has(t.customerId)) openedByBuyer++;
      } else {
        expect(opened.get(t.ticketId)).toBe(t.customerId);
        opened.delete(t.ticketId); // resolved once
        if (t.satisfactionScore !== undefined) {
          scores.push(t.satisfactionScore);
          if (persona.get(t.customerId) === 'unhappy-customer') unhappyScores.push(t.satisfactionScore);
        }
      }
    }
    expect(openedByBuyer / openedTotal).toBeGreaterThan(0.7);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(scores)).toBeGreaterThan(3.3);
    expect(scores.filter((s) => s <= 2).length).toBeGreaterThan(20); // some dissatisfied customers
    expect(mean(unhappyScores)).toBeLessThan(2.8);
  });

  it('lets personas shape behaviour', () => {
    const shop = createStorefront({ seed: 12, startAt: START, malformedRatio: 0, quietRatio: 0 });
    const persona = new Map(shop.population.map((c) => [c.customerId, c.persona.name]));
    const msgs = run(shop, 30_000);
    const purchases = msgs.filter((m) => m.kind === 'purchase');
    const clicks = msgs.filter((m) => m.kind === 'email-click');
    const ofPersona = (xs: GeneratedMessage[], name: string) => share(xs, (m: GeneratedMessage) => persona.get(m.customerId as string) === name);
    // Window shoppers click a lot and rarely buy.
    expect(ofPersona(clicks, 'window-shopper')).toBeGreaterThan(5 * ofPersona(purchases, 'window-shopper'));
    // Outdoor enthusiasts fill their baskets with outdoor gear; big spenders pay more per line.
    const lines = (name: string) =>
      purchases.filter((m) => persona.get(m.customerId as string) === name).flatMap((m) => parse<{ currency: string; items: { category: string; unitPriceMinor: number }[] }>(m).items.map((it) => ({ ...it, currency: parse<{ currency: string }>(m).currency })));
    const outdoor = lines('outdoor-enthusiast');
    expect(share(outdoor, (it: { category: string }) => it.category === 'outdoor')).toBeGreaterThan(0.4);
    const medianEur = (name: string) => {
      const xs = lines(name).filter((it) => it.currency === 'EUR').map((it) => it.unitPriceMinor).sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)] as number;
    };
    expect(medianEur('big-spender')).toBeGreaterThan(2 * medianEur('bargain-hunter'));
  });

  it('leaks personal fields into a few email clicks, always on example.* addresses', () => {
    const msgs = run(createStorefront({ seed: 13, startAt: START, malformedRatio: 0 }), 10_000).filter((m) => m.kind === 'email-click');
    const withEmail = msgs.map((m) => parse(m)).filter((c) => 'email' in c);
    expect(withEmail.length / msgs.length).toBeGreaterThan(0.03);
    expect(withEmail.length / msgs.length).toBeLessThan(0.07);
    expect(withEmail.every((c) => /^[a-z]+\.[a-z]+@example\.com$/.test(c.email as string))).toBe(true);
    expect(withEmail.some((c) => typeof c.customerName === 'string')).toBe(true);
    const none = run(createStorefront({ seed: 13, startAt: START, malformedRatio: 0, personalDataRatio: 0 }), 2000);
    expect(none.some((m) => 'email' in parse(m))).toBe(false);
  });
});
