import { resolve } from 'node:path';
import fc from 'fast-check';
import type { CustomerEvent } from '@labelstream/contracts';
import { readRulesFile } from '@labelstream/rules';
import { applyEvents, evaluateAt } from './engine';
import { EngineError } from './errors';
import { toEngineEvent } from './event';
import { click, DAY, HOUR, purchase, T0, ticket } from './fixtures.test-helper';
import { attachIds, compactIds, idEntries, idsOf, IdView, setOwn, SmallIds } from './ids';
import { decodeState, emptyState, encodeState, IDS_APART_VERSION, type CustomerState } from './state';

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
    expect(bytes).toMatchInlineSnapshot(`552`);
  });

  it('encodes times relative to the clock and bucket indexes as deltas', () => {
    const s = { ...emptyState(), c: 1_000_000, l: { a: 999_000 }, d: { e1: 999_500 }, f: { k1: { k: 'w' as const, b: [[100, 2], [103, 1]] as Array<[number, number]> }, k2: { k: 'n' as const, v: 7 } } };
    expect(encodeState(s)).toBe('{"v":2,"c":1000000,"l":{"a":1000},"d":["e1",500],"f":{"k1":["w",100,2,3,1],"k2":7}}');
  });

  it.each([
    ['not JSON', '{', 'STATE_CORRUPT'],
    ['another version', '{"v":4,"c":1}', 'STATE_VERSION_UNSUPPORTED'],
    ['a version as a string', '{"v":"2","c":1}', 'STATE_VERSION_UNSUPPORTED'],
    ['no version', '{"c":1}', 'STATE_VERSION_UNSUPPORTED'],
    ['no clock', '{"v":1}', 'STATE_CORRUPT'],
    ['no clock (v2)', '{"v":2,"d":[]}', 'STATE_CORRUPT'],
    ['an unknown layout', '{"v":1,"c":1,"f":{"k":["?",1]}}', 'STATE_CORRUPT'],
    ['a truncated layout', '{"v":1,"c":1,"f":{"k":["w",1]}}', 'STATE_CORRUPT'],
    ['a truncated layout (v2)', '{"v":2,"c":1,"f":{"k":["w",1]}}', 'STATE_CORRUPT'],
    ['a v1 id with a non-number age', '{"v":1,"c":1,"d":{"a":"1"}}', 'STATE_CORRUPT'],
    ['v2 ids as an object', '{"v":2,"c":1,"d":{"a":1}}', 'STATE_CORRUPT'],
    ['v2 ids as null', '{"v":2,"c":1,"d":null}', 'STATE_CORRUPT'],
    ['an odd v2 ids array', '{"v":2,"c":1,"d":["a",1,"b"]}', 'STATE_CORRUPT'],
    ['a non-string v2 id', '{"v":2,"c":1,"d":[7,1]}', 'STATE_CORRUPT'],
    ['a null v2 id', '{"v":2,"c":1,"d":[null,1]}', 'STATE_CORRUPT'],
    ['a non-number v2 age', '{"v":2,"c":1,"d":["a","1"]}', 'STATE_CORRUPT'],
    ['a null v2 age', '{"v":2,"c":1,"d":["a",null]}', 'STATE_CORRUPT'],
    ['an infinite v2 age', '{"v":2,"c":1,"d":["a",1e999]}', 'STATE_CORRUPT'],
    ['a repeated v2 id', '{"v":2,"c":1,"d":["a",1,"b",1,"a",2]}', 'STATE_CORRUPT'],
    // beyond the small-set size, decoded into a shared log
    ['a repeated v2 id among many', `{"v":2,"c":1,"d":${JSON.stringify([...manyIds(100), 'e7', 0])}}`, 'STATE_CORRUPT'],
    ['an infinite v2 age among many', `{"v":2,"c":1,"d":${JSON.stringify(manyIds(100)).replace(/\]$/, ',"z",1e999]')}}`, 'STATE_CORRUPT'],
    ['an odd v2 ids array among many', `{"v":2,"c":1,"d":${JSON.stringify([...manyIds(100), 'z'])}}`, 'STATE_CORRUPT'],
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

  it('names the versions it reads', () => {
    expect(() => decodeState('{"v":4,"c":1}')).toThrow('stored state has version 4; this engine reads versions 1, 2 and 3');
  });
});

describe('ids kept apart (layout 3)', () => {
  const withIds = (n: number): CustomerState => {
    let s: CustomerState | null = null;
    for (let i = 0; i < n; i++) s = applyEvents(s, [click(`e${i}`, 1_000_000 + i * 1000)], defaultRules).state;
    return s as CustomerState;
  };

  it.each([3, 40])('encodes without ids and gets them back with attachIds (%i ids)', (n) => {
    const s = withIds(n);
    const apart = encodeState(s, { idsApart: true });
    expect(JSON.parse(apart)).toMatchObject({ v: IDS_APART_VERSION });
    expect(JSON.parse(apart).d).toBeUndefined();
    const back = decodeState(apart);
    expect(idEntries(back)).toEqual([]);
    attachIds(back, new Map(idEntries(s)));
    // The same state as the inline layout gives.
    expect(encodeState(back)).toBe(encodeState(s));
    // A replayed event is a duplicate, as it would be with the ids inline.
    expect(applyEvents(back, [click('e0', 1_000_000)], defaultRules).outcomes[0]?.outcome).toBe('duplicate');
  });

  it('attachIds keeps the ids a layout 2 state brought inline', () => {
    const s = decodeState(encodeState(withIds(3)));
    attachIds(s, new Map([['x', 1_001_500]]));
    expect(idEntries(s).map(([id]) => id).sort()).toEqual(['e0', 'e1', 'e2', 'x']);
  });

  it('refuses a layout 3 state that holds ids', () => {
    expect(() => decodeState('{"v":3,"c":1,"d":["a",0]}')).toThrow(/version 3 holds ids/);
  });

  it('compactIds frees the ids the horizon hid, and only them', () => {
    // A long-lived state changed in place: 400 events an hour apart → only the last hour's ids stay visible.
    let s = applyEvents(null, [click('e0', 1_000_000)], defaultRules).state;
    for (let i = 1; i < 400; i++) {
      s = applyEvents(s, [click(`e${i}`, 1_000_000 + i * 60_000)], defaultRules, { inPlace: true }).state;
      compactIds(s);
    }
    const visible = idEntries(s).map(([id]) => id);
    expect(visible.length).toBeLessThan(70);
    expect(visible[visible.length - 1]).toBe('e399');
    expect(applyEvents(s, [click('e399', 1_000_000 + 399 * 60_000)], defaultRules).outcomes[0]?.outcome).toBe('duplicate');
  });
});

/** `[id, age, …]` of `n` ids e0…e(n-1), all of age 0. */
function manyIds(n: number): Array<string | number> {
  return Array.from({ length: n }, (_, i) => [`e${i}`, 0]).flat();
}

/** A state with the given ids (a plain `d` made by hand, as a caller may). */
function withIds(c: number, entries: Array<[string, number]>): CustomerState {
  const d: Record<string, number> = {};
  for (const [id, t] of entries) setOwn(d, id, t);
  return { ...emptyState(), c, d };
}

/** The version 1 encoding of `s` (ids as an object keyed by id), derived from its v2 encoding. */
function toV1(text: string): string {
  const o = JSON.parse(text) as { v: number; d?: Array<string | number> };
  const out: Record<string, unknown> = { ...o, v: 1 };
  if (o.d) {
    const d: Record<string, number> = {};
    for (let i = 0; i < o.d.length; i += 2) setOwn(d, o.d[i] as string, o.d[i + 1] as number);
    out.d = d;
  }
  return JSON.stringify(out);
}

describe('state layout version 2: ids as a flat array', () => {
  // Written by the version 1 engine (typicalCustomer() at the commit before layout v2):
  // a rolling upgrade reads states like these.
  const V1_TYPICAL =
    '{"v":1,"c":1798761600000,"l":{"advocate":1728000000,"engaged":4147200000,"repeat_customer":24624000000,"satisfied":17280000000},' +
    '"d":{"5d2a9e61-7c3b-4f08-b1d4-999999999999":0},"f":{"AN6xP":["w",41608,1],"AwU7K":["w",2927,1,6,1,6,1,7,1,6,1,7,1,6,1,7,1],' +
    '"DBzem":["l",2971,5,1728000000],"DveFX":["w",20759,1,2,1,5,1,5,1,5,1,5,1,5,1,5,1,5,1,3,1,2,1,3,1,2,1,5,1,5,1,3,1],' +
    '"Gc7jl":["w",20759,13000,45,14500],"NmRwo":8,"ZQ2gh":["w",2945,1,26,1],"gJM13":23,"giSbY":["w",20759,1],' +
    '"pGPKJ":["w",2945,4,26,5],"tLiLx":["w",83224,1,20,1,20,1,12,1]}}';
  const V1_SMALL = '{"v":1,"c":1000000,"l":{"a":1000},"d":{"e1":500},"f":{"k1":["w",100,2,3,1],"k2":7}}';

  it('reads version 1 states as before, and writes them back as version 2', () => {
    const s = typicalCustomer();
    delete s.r; // a version 1 engine did not record the rules version
    expect(decodeState(V1_TYPICAL)).toEqual(s);
    expect(encodeState(decodeState(V1_TYPICAL))).toBe(encodeState(s));
    expect(encodeState(s)).toBe(V1_TYPICAL.replace('"v":1', '"v":2').replace('{"5d2a9e61-7c3b-4f08-b1d4-999999999999":0}', '["5d2a9e61-7c3b-4f08-b1d4-999999999999",0]'));
    expect(decodeState(V1_SMALL)).toEqual({ v: 2, c: 1_000_000, l: { a: 999_000 }, d: { e1: 999_500 }, f: { k1: { k: 'w', b: [[100, 2], [103, 1]] }, k2: { k: 'n', v: 7 } } });
    expect(encodeState(decodeState(V1_SMALL))).toBe('{"v":2,"c":1000000,"l":{"a":1000},"d":["e1",500],"f":{"k1":["w",100,2,3,1],"k2":7}}');
  });

  it('reads a version 1 __proto__ id as an ordinary id, and orders ids by time then id', () => {
    const v1 = '{"v":1,"c":1000,"d":{"b":5,"a":5,"__proto__":10,"c":0}}';
    const s = decodeState(v1);
    expect(Object.prototype.hasOwnProperty.call(s.d, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(s.d)).toBe(Object.prototype);
    expect(Object.entries(s.d).sort()).toEqual([['__proto__', 990], ['a', 995], ['b', 995], ['c', 1000]]);
    const v2 = encodeState(s);
    expect(v2).toBe('{"v":2,"c":1000,"d":["__proto__",10,"a",5,"b",5,"c",0]}');
    expect(decodeState(v2)).toEqual(s);
    expect(Object.prototype.hasOwnProperty.call(decodeState(v2).d, '__proto__')).toBe(true);
  });

  it('round-trips many ids through a shared log, not a plain object', () => {
    const entries = Array.from({ length: 1000 }, (_, i): [string, number] => [`${(i * 7919) % 1000}-id`, 5_000 + Math.floor(i / 3)]);
    const s = withIds(10_000, entries);
    const text = encodeState(s);
    // oldest first; equal times by id (as strings)
    expect(text.startsWith('{"v":2,"c":10000,"d":["0-id",5000,"838-id",5000,"919-id",5000,"595-id",4999,"676-id",4999,"757-id",4999,')).toBe(true);
    const decoded = decodeState(text);
    expect(idsOf(decoded)).toBeInstanceOf(IdView);
    expect(encodeState(decoded)).toBe(text);
    expect(decoded).toEqual(s);
    // the version 1 encoding of the same state decodes to the same state
    const fromV1 = decodeState(toV1(text));
    expect(idsOf(fromV1)).toBeInstanceOf(IdView);
    expect(fromV1).toEqual(s);
    expect(encodeState(fromV1)).toBe(text);
    // up to 8 ids a decoded state keeps a plain object
    expect(idsOf(decodeState(encodeState(withIds(10_000, entries.slice(0, 8)))))).toBeInstanceOf(SmallIds);
    expect(idsOf(decodeState(encodeState(withIds(10_000, entries.slice(0, 9)))))).toBeInstanceOf(IdView);
  });

  it('a decoded state with many ids steps and forks like any other', () => {
    const rules = defaultRules;
    const entries = Array.from({ length: 300 }, (_, i): [string, number] => [`k${i}`, T0 + i * 1_000]);
    const decoded = decodeState(encodeState(withIds(T0 + 299_000, entries)));
    const a = applyEvents(decoded, [click('new-a', T0 + 300_000)], rules);
    const b = applyEvents(decoded, [click('new-b', T0 + 300_000), click('k5', T0 + 300_000)], rules);
    expect(b.outcomes.map((o) => o.outcome)).toEqual(['applied', 'duplicate']);
    expect(Object.keys(decoded.d)).toHaveLength(300);
    expect(Object.keys(a.state.d).sort()).toEqual([...entries.map(([id]) => id), 'new-a'].sort());
    expect(Object.keys(b.state.d).sort()).toEqual([...entries.map(([id]) => id), 'new-b'].sort());
  });

  it('encodes equal states to equal strings, whatever order the ids were added in (property)', () => {
    const idArb = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 3 }), fc.constantFrom('__proto__', 'constructor', '0', '1', '-1', ''));
    const entryArb = fc.tuple(idArb, fc.integer({ min: 0, max: 20 }));
    fc.assert(
      fc.property(
        // few ids (a plain object up to 8, a shared log beyond) or many (a shared log)
        fc.oneof(fc.uniqueArray(entryArb, { selector: ([id]) => id, maxLength: 10 }), fc.uniqueArray(entryArb, { selector: ([id]) => id, minLength: 60, maxLength: 200, size: 'max' })),
        fc.infiniteStream(fc.nat()),
        (entries, keys) => {
          const c = 50;
          const s = withIds(c, entries);
          const shuffled = entries.map((e) => [keys.next().value as number, e] as const).sort((x, y) => x[0] - y[0]).map(([, e]) => e);
          const t = withIds(c, shuffled);
          const text = encodeState(s);
          expect(encodeState(t)).toBe(text);
          const d = (JSON.parse(text) as { d?: Array<string | number> }).d ?? [];
          expect(d).toHaveLength(2 * entries.length);
          for (let i = 2; i < d.length; i += 2) {
            const older = (d[i - 1] as number) > (d[i + 1] as number);
            expect(older || (d[i - 1] === d[i + 1] && (d[i - 2] as string) < (d[i] as string))).toBe(true);
          }
          const decoded = decodeState(text);
          expect(decoded).toEqual(s);
          expect(encodeState(decoded)).toBe(text);
          expect(decodeState(toV1(text))).toEqual(s);
          expect(encodeState(decodeState(toV1(text)))).toBe(text);
        },
      ),
      { numRuns: 100 },
    );
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
