/**
 * Property tests: the engine against a deliberately naive reference model that keeps every
 * accepted event in a list and recomputes each feature by scanning it.
 */
import fc from 'fast-check';
import type { CompiledRules, FeatureValue } from '@labelstream/rules';
import { applyEvents, evaluateAt, type StepResult } from './engine';
import { eventView, type EngineEvent } from './event';
import { rules, T0 } from './fixtures.test-helper';
import { decodeState, encodeState, type CustomerState } from './state';

const FEATURES = `
features:
  n_w:       { event: email_click, agg: count, window: 10s, bucket: 2s }
  n_w2:      { event: email_click, agg: count, window: 4s, bucket: 2s }
  n_any:     { event: any, agg: count, window: 7s, bucket: 1s }
  s_w:       { event: purchase, agg: sum, field: amountMinorBase, window: 9s, bucket: 3s }
  mn_w:      { event: purchase, agg: min, field: amountMinorBase, window: 9s, bucket: 3s }
  mx_w:      { event: purchase, agg: max, field: amountMinorBase, window: 12s, bucket: 3s }
  last_w:    { event: support_ticket, agg: last, field: satisfactionScore, window: 8s, bucket: 2s }
  last_ch:   { event: purchase, agg: last, field: channel, window: 5s }
  d_w:       { event: purchase, agg: distinct, field: categories, window: 6s, bucket: 2s }
  d_ch:      { event: purchase, agg: distinct, field: channel, window: 5s }
  n_out:     { event: purchase, agg: count, window: 10s, bucket: 2s, where: "'outdoor' in event.categories" }
  n_life:    { event: any, agg: count }
  s_life:    { event: purchase, agg: sum, field: quantity }
  mn_life:   { event: purchase, agg: min, field: amountMinorBase }
  mx_life:   { event: purchase, agg: max, field: amountMinorBase }
  last_life: { event: support_ticket, agg: last, field: satisfactionScore }
  d_life:    { event: purchase, agg: distinct, field: skus }
labels:
  a: { category: custom, description: d, when: "n_w >= 2" }
  b: { category: custom, description: d, when: "s_w >= 10 && n_any >= 1" }
  c: { category: custom, description: d, when: "mx_w != null && mx_w >= 4" }
  d: { category: custom, description: d, when: "last_w != null && last_w >= 3" }
  e: { category: custom, description: d, when: "d_w >= 2 || d_ch >= 2 || last_ch == 'STORE'" }
  f: { category: custom, description: d, when: "n_out >= 1" }
  g: { category: custom, description: d, when: "n_life >= 3 && n_w2 == 0" }
  h: { category: custom, description: d, when: "mn_w != null && mn_w <= 1" }
  i: { category: custom, description: d, when: "last_life != null && s_life > 2 && d_life >= 1 && mn_life != null && mx_life != null" }
groups:
  grp: { exclusive: true, priority: [a, b, c] }
`;
const R = rules(`allowedLateness: 1h\n${FEATURES}`);
const R_LATE = rules(`allowedLateness: 5s\n${FEATURES}`);
const SPAN = 40_000;

type Spec = { type: 0 | 1 | 2; dt: number; amount: number; quantity: number; cats: string[]; channel: string; skus: string[]; score: number | null };

const specArb: fc.Arbitrary<Spec> = fc.record({
  type: fc.constantFrom(0 as const, 1 as const, 2 as const),
  // bias towards bucket edges (multiples of 1s, ±1ms) and towards equal times (ties)
  dt: fc
    .oneof(
      fc.integer({ min: 0, max: SPAN }),
      fc.integer({ min: 0, max: SPAN / 1000 }).chain((s) => fc.constantFrom(s * 1000, s * 1000 - 1, s * 1000 + 1)),
      fc.integer({ min: 0, max: 8 }).map((k) => k * 5000),
    )
    .map((x) => Math.max(0, x)),
  amount: fc.integer({ min: 0, max: 6 }),
  quantity: fc.integer({ min: 0, max: 3 }),
  cats: fc.subarray(['a', 'b', 'outdoor']),
  channel: fc.constantFrom('WEB', 'STORE', 'MOBILE_APP'),
  skus: fc.subarray(['s1', 's2', 's3']),
  score: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
});

function toEvent(s: Spec, i: number): EngineEvent {
  const base = { eventId: `e${String(i).padStart(3, '0')}`, customerId: 'c', occurredAt: T0 + s.dt };
  if (s.type === 0) {
    return {
      ...base,
      eventType: 'PURCHASE',
      attrs: { amountMinor: s.amount, amountMinorBase: s.amount, currency: 'EUR', itemCount: s.skus.length, quantity: s.quantity, categories: s.cats, skus: s.skus, channel: s.channel },
    };
  }
  if (s.type === 1) return { ...base, eventType: 'EMAIL_CLICK', attrs: { campaignId: 'c', emailId: 'm', linkId: 'l' } };
  return { ...base, eventType: 'SUPPORT_TICKET', attrs: { ticketId: base.eventId, status: 'RESOLVED', priority: 'LOW', satisfactionScore: s.score } };
}

const logArb = fc.array(specArb, { minLength: 0, maxLength: 25 }).map((specs) => specs.map(toEvent));

/** A log plus a permutation of it (as sort keys). */
const permutedLogArb = logArb.chain((events) =>
  fc.array(fc.double({ noNaN: true }), { minLength: events.length, maxLength: events.length }).map((keys) => {
    const order = events.map((e, i) => ({ e, k: keys[i] as number, i })).sort((a, b) => a.k - b.k || a.i - b.i);
    return { events, permuted: order.map((x) => x.e) };
  }),
);

// ---------------------------------------------------------------------------------------
// The reference model: scan every accepted event.

const WIRE: Record<string, string | null> = { purchase: 'PURCHASE', email_click: 'EMAIL_CLICK', support_ticket: 'SUPPORT_TICKET', any: null };

function referenceFeatures(accepted: readonly EngineEvent[], rs: CompiledRules, at: number): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const f of rs.features) {
    const wire = WIRE[f.event];
    const matching = accepted.filter((e) => {
      if (wire !== null && e.eventType !== wire) return false;
      if (f.windowMs !== null && (Math.floor(e.occurredAt / f.bucketMs) + 1) * f.bucketMs <= at - f.windowMs) return false;
      return f.where ? f.where.matches(eventView(e)) : true;
    });
    if (f.agg === 'count') {
      out[f.name] = matching.length;
      continue;
    }
    const withValue = matching.filter((e) => e.attrs[f.field as string] !== null && e.attrs[f.field as string] !== undefined);
    const values = withValue.map((e) => e.attrs[f.field as string]);
    switch (f.agg) {
      case 'sum':
        out[f.name] = (values as number[]).reduce((a, b) => a + b, 0);
        break;
      case 'min':
        out[f.name] = values.length ? Math.min(...(values as number[])) : null;
        break;
      case 'max':
        out[f.name] = values.length ? Math.max(...(values as number[])) : null;
        break;
      case 'distinct':
        out[f.name] = new Set(values.flatMap((v) => (Array.isArray(v) ? v : [v]))).size;
        break;
      case 'last': {
        let best: EngineEvent | undefined;
        for (const e of withValue) {
          const v = e.attrs[f.field as string] as number | string;
          const bv = best?.attrs[f.field as string] as number | string | undefined;
          if (!best || e.occurredAt > best.occurredAt || (e.occurredAt === best.occurredAt && bv !== undefined && v > bv)) best = e;
        }
        out[f.name] = best ? (best.attrs[f.field as string] as FeatureValue) : null;
        break;
      }
    }
  }
  return out;
}

function referenceLabels(features: Record<string, FeatureValue>, rs: CompiledRules): string[] {
  const holds = new Set(rs.labels.filter((l) => l.enter(features)).map((l) => l.name));
  for (const g of rs.groups) {
    const winners = g.priority.filter((n) => holds.has(n));
    for (const loser of winners.slice(1)) holds.delete(loser);
  }
  return rs.labels.map((l) => l.name).filter((n) => holds.has(n));
}

/** Applies events one at a time (each evaluated), like the evaluator does per message. */
function oneByOne(events: readonly EngineEvent[], rs: CompiledRules, start: CustomerState | null = null): { state: CustomerState; last: StepResult | null; outcomes: string[] } {
  let state = start;
  let last: StepResult | null = null;
  const outcomes: string[] = [];
  for (const e of events) {
    last = applyEvents(state, [e], rs);
    outcomes.push(last.outcomes[0]?.outcome ?? '?');
    state = last.state;
  }
  return { state: state ?? evaluateAt(null, T0, rs).state, last, outcomes };
}

const clockOf = (events: readonly EngineEvent[]): number => Math.max(T0, ...events.map((e) => e.occurredAt));
const RUNS = { numRuns: 300 };

/** The version 1 encoding of `s`: as version 2, but `v: 1` and the ids an object keyed by id, sorted. */
function encodeV1(s: CustomerState): string {
  const o = JSON.parse(encodeState(s)) as Record<string, unknown>;
  const ids = Object.keys(s.d).sort();
  const d = Object.fromEntries(ids.map((id) => [id, s.c - (s.d[id] as number)]));
  const { c, l, f } = o;
  return JSON.stringify({ v: 1, c, l, d: ids.length > 0 ? d : undefined, f });
}

describe('engine vs reference model (property-based)', () => {
  it('features equal the reference at the clock and at any later time', () => {
    fc.assert(
      fc.property(logArb, fc.integer({ min: 0, max: 20_000 }), (events, later) => {
        const sorted = [...events].sort((a, b) => a.occurredAt - b.occurredAt);
        const { state } = oneByOne(sorted, R);
        const clock = clockOf(sorted);
        expect(evaluateAt(state, clock, R).features).toEqual(referenceFeatures(sorted, R, clock));
        const step = evaluateAt(state, clock + later, R);
        expect(step.features).toEqual(referenceFeatures(sorted, R, clock + later));
        expect(step.labels).toEqual(referenceLabels(step.features, R));
      }),
      RUNS,
    );
  });

  it('out-of-order arrival within the lateness gives the same features, labels and stored buckets', () => {
    fc.assert(
      fc.property(permutedLogArb, ({ events, permuted }) => {
        if (events.length === 0) return;
        const inOrder = oneByOne([...events].sort((a, b) => a.occurredAt - b.occurredAt), R);
        const shuffled = oneByOne(permuted, R);
        const batch = applyEvents(null, permuted, R);
        expect(shuffled.outcomes.every((o) => o === 'applied')).toBe(true);
        const clock = clockOf(events);
        const expected = referenceFeatures(events, R, clock);
        for (const s of [inOrder.state, shuffled.state, batch.state]) {
          expect(s.c).toBe(clock);
          expect(evaluateAt(s, clock, R).features).toEqual(expected);
        }
        // identical stored data and label sets (label `since` may differ: it is when each was assigned)
        expect(encodeState({ ...shuffled.state, l: {} })).toBe(encodeState({ ...inOrder.state, l: {} }));
        expect(encodeState({ ...batch.state, l: {} })).toBe(encodeState({ ...inOrder.state, l: {} }));
        const labels = referenceLabels(expected, R);
        expect(Object.keys(shuffled.state.l).sort()).toEqual([...labels].sort());
        expect(batch.labels).toEqual(labels);
      }),
      RUNS,
    );
  });

  it('timer evaluations interleaved with events do not change the outcome', () => {
    fc.assert(
      fc.property(permutedLogArb, fc.array(fc.integer({ min: 0, max: SPAN }), { maxLength: 6 }), ({ events, permuted }, timers) => {
        let state: CustomerState | null = null;
        let i = 0;
        const ts = [...timers].sort((a, b) => a - b);
        for (const e of permuted) {
          const timer = ts[i];
          if (timer !== undefined && i < ts.length && i % 2 === 0) state = evaluateAt(state, T0 + timer, R).state;
          i++;
          state = applyEvents(state, [e], R).state;
        }
        const clock = Math.max(clockOf(events), ...ts.filter((_, k) => k % 2 === 0 && k < permuted.length).map((t) => T0 + t));
        expect(evaluateAt(state, clock, R).features).toEqual(referenceFeatures(events, R, clock));
      }),
      RUNS,
    );
  });

  it('duplicates are reported and never counted twice', () => {
    fc.assert(
      fc.property(logArb, fc.array(fc.nat(), { maxLength: 8 }), (events, picks) => {
        if (events.length === 0) return;
        const dups = picks.map((p) => events[p % events.length] as EngineEvent);
        const { last, outcomes } = oneByOne([...events, ...dups], R);
        expect(outcomes.slice(events.length)).toEqual(dups.map(() => 'duplicate'));
        expect(last?.features).toEqual(referenceFeatures(events, R, clockOf(events)));
      }),
      RUNS,
    );
  });

  it('marks exactly the events older than clock − lateness as late, and counts the rest', () => {
    fc.assert(
      fc.property(logArb, (events) => {
        const { state, outcomes } = oneByOne(events, R_LATE);
        const accepted: EngineEvent[] = [];
        let clock = 0;
        events.forEach((e, i) => {
          const late = e.occurredAt < clock - R_LATE.allowedLatenessMs;
          expect(outcomes[i]).toBe(late ? 'late' : 'applied');
          if (!late) {
            accepted.push(e);
            clock = Math.max(clock, e.occurredAt);
          }
        });
        const at = Math.max(T0, clock);
        expect(evaluateAt(state, at, R_LATE).features).toEqual(referenceFeatures(accepted, R_LATE, at));
      }),
      RUNS,
    );
  });

  it('nextDueAt is exact: nothing changes before it, something changes at it', () => {
    fc.assert(
      fc.property(logArb, fc.double({ min: 0, max: 1, noNaN: true }), (events, frac) => {
        const step = applyEvents(null, events, R);
        const clock = step.effectiveAt;
        const now = referenceFeatures(events, R, clock);
        const due = step.nextDueAt;
        if (due === null) {
          expect(referenceFeatures(events, R, clock + 1e9)).toEqual(now);
          return;
        }
        expect(due).toBeGreaterThan(clock);
        const between = clock + Math.floor(frac * (due - 1 - clock));
        expect(referenceFeatures(events, R, between)).toEqual(now);
        expect(referenceFeatures(events, R, due - 1)).toEqual(now);
        expect(referenceFeatures(events, R, due)).not.toEqual(now);
        expect(evaluateAt(step.state, due, R).features).toEqual(referenceFeatures(events, R, due));
      }),
      RUNS,
    );
  });

  it('encodeState / decodeState round-trip any reachable state', () => {
    fc.assert(
      fc.property(logArb, fc.integer({ min: 0, max: 20_000 }), (events, later) => {
        const a = applyEvents(null, events, R);
        const b = evaluateAt(a.state, a.effectiveAt + later, R);
        for (const s of [a.state, b.state]) {
          const text = encodeState(s);
          expect(decodeState(text)).toEqual(s);
          expect(encodeState(decodeState(text))).toBe(text);
          // A state stored by the version 1 engine reads the same (rolling upgrade).
          // It did not record the rules version.
          const v1 = encodeV1(s);
          const { r: _rules, ...older } = s;
          expect(decodeState(v1)).toEqual(older);
          expect(encodeState(decodeState(v1))).toBe(encodeState(older));
        }
      }),
      RUNS,
    );
  });
});
