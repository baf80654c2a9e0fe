import fc from 'fast-check';
import { loadRules, type CompiledRules } from '@labelstream/rules';
import { backfillPlan, backfillSince, customerHash, foldHistory, inShard, mergeBackfill, runBackfill, type BackfillFold, type BackfillIo } from './backfill';
import { applyEvents, evaluateAt } from './engine';
import { DAY, HOUR, MIN, purchase, T0 } from './fixtures.test-helper';
import type { EngineEvent } from './event';

const rulesWith = (version: string, spend: string, extra = ''): CompiledRules =>
  loadRules(`version: "${version}"
features:
  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d${spend} }
  orders: { event: purchase, agg: count }
${extra}labels:
  high_value: { category: value, description: d, when: "spend_90d >= 5000" }
  repeat: { category: value, description: d, when: "orders >= 2" }
`);

const before = rulesWith('v1', '');
const web = rulesWith('v2', `, where: "event.channel == 'WEB'"`);
const keysOf = (r: CompiledRules, name: string): string => r.features.find((f) => f.name === name)!.storageKey;

/** What live processing under `rules` from the start would hold for each feature. */
function live(events: readonly EngineEvent[], rules: CompiledRules) {
  return applyEvents(null, events, rules).state;
}

describe('backfillPlan', () => {
  it('names the storage keys the new rules add, and the history the longest of them needs', () => {
    const plan = backfillPlan(before, web)!;
    expect([...plan.keys]).toEqual([keysOf(web, 'spend_90d')]);
    // The window and one bucket (an event counts until its bucket's end + the window).
    expect(plan.historyMs).toBe(90 * DAY + web.features.find((f) => f.name === 'spend_90d')!.bucketMs);
    expect(backfillPlan(before, rulesWith('v3', ''))).toBeNull();
  });

  it('needs all the history for a new lifetime feature, and includes features nobody reads yet', () => {
    const next = rulesWith('v2', '', `  spend_all: { event: purchase, agg: sum, field: amountMinorBase }\n`);
    const plan = backfillPlan(before, next)!;
    expect([...plan.keys]).toEqual([keysOf(next, 'spend_all')]);
    expect(plan.historyMs).toBeNull();
  });

  it('reads the history from one longest window before the switch or the oldest customer clock, or from the log start for a lifetime feature', () => {
    const plan = backfillPlan(before, web)!;
    expect(backfillSince(plan, T0)).toBe(T0 - plan.historyMs!);
    // A customer whose clock lags 30 days needs the window before its clock.
    expect(backfillSince(plan, T0, T0 - 30 * DAY)).toBe(T0 - 30 * DAY - plan.historyMs!);
    expect(backfillSince(plan, T0, T0 + HOUR)).toBe(T0 - plan.historyMs!);
    // Records are found by their time, which may be up to the ingest's future skew before the event's.
    expect(backfillSince(plan, T0, T0, 5 * MIN)).toBe(T0 - plan.historyMs! - 5 * MIN);
    expect(backfillSince(backfillPlan(before, rulesWith('v2', '', `  spend_all: { event: purchase, agg: sum, field: amountMinorBase }\n`))!, T0)).toBeNull();
  });
});

describe('foldHistory and mergeBackfill', () => {
  const events: EngineEvent[] = [
    purchase('p1', T0, { amountMinorBase: 3000, channel: 'WEB' }),
    purchase('p2', T0 + HOUR, { amountMinorBase: 4000, channel: 'MARKETPLACE' }),
    purchase('p3', T0 + 2 * HOUR, { amountMinorBase: 2500, channel: 'WEB' }),
    // re-delivered: counted once, as live processing does
    purchase('p1', T0 + 2 * HOUR, { amountMinorBase: 3000, channel: 'WEB' }),
    // older than the clock − allowed lateness (1h): late, not counted live either
    purchase('p0', T0 - 10 * MIN, { amountMinorBase: 9000, channel: 'WEB' }),
  ];

  it('fills only the new key, with what live processing under the new rules would hold', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    const oldKey = keysOf(before, 'spend_90d');
    const fold = foldHistory(undefined, events, web, plan.keys);
    expect(Object.keys(fold.f)).toEqual([keysOf(web, 'spend_90d')]);
    expect(mergeBackfill(stored, fold, web, plan.keys)).toBe(true);
    const expected = live(events, web);
    expect(stored.f[keysOf(web, 'spend_90d')]).toEqual(expected.f[keysOf(web, 'spend_90d')]);
    // The features that existed before keep their own counts.
    expect(stored.f[oldKey]).toEqual(live(events, before).f[oldKey]);
    // Evaluated under the new rules: 3000 + 2500 on the web, the marketplace order and the late one left out.
    expect(evaluateAt(stored, stored.c, web).features.spend_90d).toBe(5500);
    expect(evaluateAt(stored, stored.c, web).labels).toEqual(['high_value', 'repeat']);
  });

  it('gives the same result whether the history comes in one piece or in slices', () => {
    const plan = backfillPlan(before, web)!;
    let fold = foldHistory(undefined, events.slice(0, 2), web, plan.keys);
    fold = foldHistory(fold, events.slice(2), web, plan.keys);
    expect(fold.f).toEqual(foldHistory(undefined, events, web, plan.keys).f);
  });

  it('keeps only the dedupe ids of the lateness horizon, and still drops a re-delivery inside it', () => {
    const plan = backfillPlan(before, web)!;
    const history = [purchase('a', T0, { channel: 'WEB' }), purchase('b', T0 + 3 * HOUR, { channel: 'WEB' })];
    const fold = foldHistory(undefined, history, web, plan.keys);
    expect([...fold.ids.keys()]).toEqual(['b']);
    foldHistory(fold, [purchase('b', T0 + 3 * HOUR, { channel: 'WEB' }), purchase('a', T0, { channel: 'WEB' })], web, plan.keys);
    expect(fold.f).toEqual(foldHistory(undefined, history, web, plan.keys).f);
  });

  it('replaces what the key held: merging again after a crash changes nothing, never counts twice', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    expect(mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys)).toBe(true);
    const once = JSON.stringify(stored.f);
    expect(mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys)).toBe(false);
    expect(JSON.stringify(stored.f)).toBe(once);
  });

  it('empties the key of a customer with no event in the history', () => {
    const plan = backfillPlan(before, web)!;
    const stored = live(events, before);
    mergeBackfill(stored, foldHistory(undefined, events, web, plan.keys), web, plan.keys);
    expect(mergeBackfill(stored, undefined, web, plan.keys)).toBe(true);
    expect(stored.f[keysOf(web, 'spend_90d')]).toBeUndefined();
  });

  it('leaves out buckets already outside the window at the state clock', () => {
    const plan = backfillPlan(before, web)!;
    const old = [purchase('a', T0, { amountMinorBase: 7000, channel: 'WEB' }), purchase('b', T0 + 100 * DAY, { amountMinorBase: 100, channel: 'WEB' })];
    const stored = live(old, before);
    mergeBackfill(stored, foldHistory(undefined, old, web, plan.keys), web, plan.keys);
    expect(evaluateAt(stored, stored.c, web).features.spend_90d).toBe(100);
    expect(stored.f[keysOf(web, 'spend_90d')]).toEqual(live(old, web).f[keysOf(web, 'spend_90d')]);
  });
});

describe('a backfill equals live processing under the new rules', () => {
  it('for any history (out of order, late, re-delivered, cut into any slices)', () => {
    const plan = backfillPlan(before, web)!;
    const key = keysOf(web, 'spend_90d');
    // A re-delivery is the same event (same id, time and payload): a table of events, and the order they arrive in.
    const event = fc.record({ at: fc.oneof(fc.integer({ min: 0, max: 3 * HOUR }), fc.integer({ min: 0, max: 200 * DAY })), amount: fc.integer({ min: 1, max: 9000 }), web: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { minLength: 40, maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 60 }), fc.integer({ min: 1, max: 60 }), (table, order, slice) => {
        const events = order.map((i) => purchase(`e${i}`, T0 + table[i]!.at, { amountMinorBase: table[i]!.amount, channel: table[i]!.web ? 'WEB' : 'MARKETPLACE' }));
        const stored = live(events, before);
        let fold;
        for (let i = 0; i < events.length; i += slice) fold = foldHistory(fold, events.slice(i, i + slice), web, plan.keys);
        mergeBackfill(stored, fold, web, plan.keys);
        expect(stored.f[key]).toEqual(live(events, web).f[key]);
        expect(evaluateAt(stored, stored.c, web).features).toEqual(evaluateAt(live(events, web), stored.c, web).features);
      }),
      { numRuns: 300 },
    );
  });
});

describe('runBackfill: passes of bounded memory', () => {
  const plan = backfillPlan(before, web)!;
  const key = keysOf(web, 'spend_90d');

  /**
   * A partition in memory: its history (in log order, read in pages of `page`; an event's
   * record time is its occurredAt) and its stored customers, with their clocks.
   */
  function partition(history: readonly EngineEvent[], stored: readonly string[], page: number, clockOf: (id: string) => number = () => T0 + 10 * HOUR) {
    const applied = new Map<string, BackfillFold | undefined>();
    let reads = 0;
    const since: Array<number | null> = [];
    const io: BackfillIo<{ since: number }> = {
      async readHistory(sinceMs, keep, onEvents) {
        reads++;
        since.push(sinceMs);
        const from = history.filter((e) => sinceMs === null || e.occurredAt >= sinceMs);
        for (let i = 0; i < from.length; i += page) await onEvents(from.slice(i, i + page).filter((e) => keep(e.customerId) || i % 2 === 0));
        return { since: Number.NEGATIVE_INFINITY };
      },
      async clocks(customers) {
        return customers.map(clockOf);
      },
      async scanCustomers(cursor) {
        const at = Number(cursor);
        const next = at + 7 >= stored.length ? '0' : String(at + 7);
        return { cursor: next, customers: stored.slice(at, at + 7) };
      },
      async apply(customers, folds) {
        for (const c of customers) {
          if (applied.has(c)) throw new Error(`${c} applied twice`);
          applied.set(c, folds.get(c));
        }
      },
    };
    return { io, applied, reads: () => reads, since };
  }

  const customerEvents = (n: number, perCustomer: number): EngineEvent[] => {
    const out: EngineEvent[] = [];
    for (let i = 0; i < perCustomer; i++) for (let c = 0; c < n; c++) out.push({ ...purchase(`e${c}-${i}`, T0 + i * HOUR, { amountMinorBase: 100 * (c + 1), channel: i % 2 ? 'WEB' : 'MARKETPLACE' }), customerId: `c${c}` });
    return out;
  };

  it('shards divide the customers exactly, and a split shard into its two halves', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `c${i}`);
    for (const id of ids) {
      const h = customerHash(id);
      expect(inShard(id, { index: 0, of: 1 })).toBe(true);
      expect([0, 1, 2, 3].filter((index) => inShard(id, { index, of: 4 }))).toEqual([h & 3]);
      expect(inShard(id, { index: 1, of: 2 })).toBe(inShard(id, { index: 1, of: 4 }) || inShard(id, { index: 3, of: 4 }));
    }
    expect(customerHash('c1')).toBe(customerHash('c1'));
  });

  it('folds every stored customer once, with the folds of one unbounded pass, holding at most the bound', async () => {
    const history = customerEvents(120, 5);
    const stored = [...Array.from({ length: 120 }, (_, i) => `c${i}`), 'quiet-1', 'quiet-2'];
    const whole = partition(history, stored, 50);
    const one = await runBackfill(whole.io, web, plan, { at: T0 + 10 * HOUR, maxCustomers: 1000 });
    expect(one.passes).toBe(1);
    expect(one.peakCustomers).toBe(120);

    const bounded = partition(history, stored, 50);
    const passes: number[] = [];
    const run = await runBackfill(bounded.io, web, plan, { at: T0 + 10 * HOUR, maxCustomers: 25, onPass: (p) => passes.push(p.customers) });
    expect(run.peakCustomers).toBeLessThanOrEqual(25);
    expect(run.passes).toBeGreaterThanOrEqual(5);
    expect(bounded.reads()).toBe(run.passes);
    expect(passes.reduce((a, b) => a + b, 0)).toBe(120);
    expect([...bounded.applied.keys()].sort()).toEqual([...stored].sort());
    for (const c of stored) expect(bounded.applied.get(c)?.f[key]).toEqual(whole.applied.get(c)?.f[key]);
    expect(bounded.applied.get('quiet-1')).toBeUndefined();
    expect(bounded.applied.get('c7')?.f[key]).toBeDefined();
  });

  it('whatever the bound and the pages, each customer gets what live processing under the new rules holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 4 }), async (bound, page, perCustomer) => {
        const history = customerEvents(30, perCustomer);
        const p = partition(history, Array.from({ length: 30 }, (_, i) => `c${i}`), page);
        await runBackfill(p.io, web, plan, { at: T0 + 10 * HOUR, maxCustomers: bound });
        for (let c = 0; c < 30; c++) {
          const mine = history.filter((e) => e.customerId === `c${c}`);
          expect(p.applied.get(`c${c}`)?.f[key]).toEqual(live(mine, web).f[key]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads from one window before the oldest customer clock: a customer whose clock lags gets its whole window', async () => {
    // c0 bought 100 days before the switch and nothing since (its clock is its purchase); the
    // others are active. At c0's clock its spend_90d holds that purchase: so must the backfill.
    const at = T0 + 100 * DAY;
    const history: EngineEvent[] = [
      { ...purchase('old', T0, { amountMinorBase: 7000, channel: 'WEB' }), customerId: 'c0' },
      { ...purchase('new', at - HOUR, { amountMinorBase: 100, channel: 'WEB' }), customerId: 'c1' },
    ];
    const p = partition(history, ['c0', 'c1'], 10, (id) => (id === 'c0' ? T0 : at - HOUR));
    const run = await runBackfill(p.io, web, plan, { at, maxCustomers: 10 });
    expect(run.oldestClock).toBe(T0);
    expect(p.since).toEqual([T0 - plan.historyMs!]);
    expect(p.applied.get('c0')?.f[key]).toEqual(live([history[0]!], web).f[key]);
    // Read from the switch − one window only, c0's purchase would be missing.
    expect(T0).toBeLessThan(at - plan.historyMs!);
  });

  it('refuses a bound below one customer', async () => {
    await expect(runBackfill(partition([], [], 1).io, web, plan, { at: T0, maxCustomers: 0 })).rejects.toThrow(RangeError);
  });
});
