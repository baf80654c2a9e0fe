/**
 * Random customer event logs for the property tests (not part of the build): canonical
 * CustomerEvents with times biased to bucket edges and ties, delivered out of order, with
 * late events beyond the allowed lateness and re-delivered duplicates.
 */
import fc from 'fast-check';
import type { CustomerEvent } from '@labelstream/contracts';
import { loadRules } from '@labelstream/rules';

/** Shape of one random event before it gets an id and a time. */
export interface EventSpec {
  readonly kind: 0 | 1 | 2;
  readonly amount: number;
  readonly lines: ReadonlyArray<{ sku: string; category: string; quantity: number }>;
  readonly channel: 'WEB' | 'STORE' | 'MOBILE_APP';
  readonly score: number | null;
  readonly status: 'OPENED' | 'RESOLVED';
  readonly campaign: string;
}

const specArb: fc.Arbitrary<EventSpec> = fc.record({
  kind: fc.constantFrom(0 as const, 1 as const, 2 as const),
  amount: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 80_000 })),
  lines: fc.array(
    fc.record({ sku: fc.constantFrom('s1', 's2', 's3'), category: fc.constantFrom('outdoor', 'home', 'toys'), quantity: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 0, maxLength: 3 },
  ),
  channel: fc.constantFrom('WEB' as const, 'STORE' as const, 'MOBILE_APP' as const),
  score: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  status: fc.constantFrom('OPENED' as const, 'RESOLVED' as const),
  campaign: fc.constantFrom('cmp-a', 'cmp-b'),
});

/** Builds the canonical event. */
export function eventOf(spec: EventSpec, eventId: string, occurredAt: number, customerId = 'c-1'): CustomerEvent {
  const base = {
    eventId,
    customerId,
    occurredAt,
    ingestedAt: occurredAt,
    source: { topic: 'raw', partition: 0, offset: 0 },
    purchase: null,
    emailClick: null,
    supportTicket: null,
  };
  if (spec.kind === 0) {
    return {
      ...base,
      eventType: 'PURCHASE',
      purchase: {
        orderId: `o-${eventId}`,
        amountMinor: spec.amount,
        currency: 'EUR',
        amountMinorBase: spec.amount,
        items: spec.lines.map((l) => ({ ...l, unitPriceMinor: 1 })),
        channel: spec.channel,
      },
    };
  }
  if (spec.kind === 1) return { ...base, eventType: 'EMAIL_CLICK', emailClick: { campaignId: spec.campaign, emailId: `em-${eventId}`, linkId: '/sale' } };
  return {
    ...base,
    eventType: 'SUPPORT_TICKET',
    supportTicket: { ticketId: `t-${eventId}`, status: spec.status, priority: 'NORMAL', satisfactionScore: spec.score },
  };
}

/** How a random log is shaped, in the time unit of the rules under test. */
export interface LogShape {
  /** First event time (a round epoch time, so bucket edges are easy to hit). */
  readonly start: number;
  /** Event times fall in [start, start + span]. */
  readonly span: number;
  /** Times are biased to multiples of this (± 1 ms): bucket edges. */
  readonly edge: number;
  /** How far an event may arrive behind its time order (out of order), in ms. */
  readonly disorder: number;
  readonly maxEvents: number;
}

/**
 * A random log in arrival order: events in time order, each displaced by up to
 * `disorder` ms (so some arrive late, some beyond the allowed lateness), plus exact
 * re-deliveries of earlier events and the odd re-used id with another time.
 */
export function logArb(shape: LogShape): fc.Arbitrary<CustomerEvent[]> {
  const offset = fc.oneof(
    fc.integer({ min: 0, max: shape.span }),
    fc.integer({ min: 0, max: Math.floor(shape.span / shape.edge) }).chain((k) => fc.constantFrom(k * shape.edge, k * shape.edge - 1, k * shape.edge + 1)),
  );
  const item = fc.record({ spec: specArb, offset, delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: shape.disorder })) });
  const redelivery = fc.record({ pick: fc.nat(), at: fc.nat(), retime: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.integer({ min: -shape.edge, max: shape.edge }), weight: 1 }) });
  return fc
    .record({ items: fc.array(item, { maxLength: shape.maxEvents }), again: fc.array(redelivery, { maxLength: 4 }) })
    .map(({ items, again }) => {
      const events = items.map((it, i) => ({ e: eventOf(it.spec, `e${String(i).padStart(3, '0')}`, shape.start + Math.max(0, it.offset)), delay: it.delay }));
      // Arrival order: by time plus delay (a delayed event arrives after later ones).
      const arrival = events
        .map((x, i) => ({ ...x, key: x.e.occurredAt + x.delay, i }))
        .sort((a, b) => a.key - b.key || a.i - b.i)
        .map((x) => x.e);
      for (const r of again) {
        if (arrival.length === 0) break;
        const orig = arrival[r.pick % arrival.length] as CustomerEvent;
        const copy = r.retime === null ? orig : { ...orig, occurredAt: Math.max(shape.start, orig.occurredAt + r.retime) };
        const at = Math.min(arrival.length, arrival.indexOf(orig) + 1 + (r.at % (arrival.length + 1)));
        arrival.splice(at, 0, copy);
      }
      return arrival;
    });
}

/** Small windows and buckets, every aggregation, hysteresis, dwell, filters and two exclusive groups. */
export const SMALL_TEXT = `
version: "oracle-small"
allowedLateness: 5s
features:
  clicks_10s:  { event: email_click, agg: count, window: 10s, bucket: 2s }
  clicks_4s:   { event: email_click, agg: count, window: 4s, bucket: 1s }
  any_7s:      { event: any, agg: count, window: 7s, bucket: 1s }
  spend_9s:    { event: purchase, agg: sum, field: amountMinorBase, window: 9s, bucket: 3s }
  min_9s:      { event: purchase, agg: min, field: amountMinorBase, window: 9s, bucket: 3s }
  max_12s:     { event: purchase, agg: max, field: amountMinorBase, window: 12s, bucket: 3s }
  last_csat:   { event: support_ticket, agg: last, field: satisfactionScore, window: 8s, bucket: 2s }
  last_chan:   { event: purchase, agg: last, field: channel, window: 5s }
  cats_6s:     { event: purchase, agg: distinct, field: categories, window: 6s, bucket: 2s }
  chans_5s:    { event: purchase, agg: distinct, field: channel, window: 5s }
  outdoor_10s: { event: purchase, agg: count, window: 10s, bucket: 2s, where: "'outdoor' in event.categories" }
  rated_8s:    { event: support_ticket, agg: count, window: 8s, bucket: 2s, where: "event.satisfactionScore != null" }
  csat_sum_8s: { event: support_ticket, agg: sum, field: satisfactionScore, window: 8s, bucket: 2s }
  n_life:      { event: any, agg: count }
  qty_life:    { event: purchase, agg: sum, field: quantity }
  skus_life:   { event: purchase, agg: distinct, field: skus }
  orders_life: { event: purchase, agg: count }
labels:
  engaged:     { category: behaviour, description: d, when: "clicks_10s >= 2" }
  big:         { category: value, description: d, enter: "spend_9s >= 10", exit: "spend_9s < 6", minDwell: 3s }
  pricey:      { category: value, description: d, when: "max_12s != null && max_12s >= 4" }
  cheap:       { category: value, description: d, when: "min_9s != null && min_9s <= 1" }
  happy:       { category: satisfaction, description: d, when: "last_csat != null && last_csat >= 4 && 2 * csat_sum_8s >= 7 * rated_8s" }
  unhappy:     { category: satisfaction, description: d, when: "last_csat != null && last_csat <= 2", minDwell: 4s }
  rated:       { category: satisfaction, description: d, when: "last_csat != null" }
  varied:      { category: custom, description: d, when: "cats_6s >= 2 || chans_5s >= 2 || last_chan == 'STORE'" }
  outdoorsy:   { category: custom, description: d, when: "outdoor_10s >= 1" }
  quiet:       { category: behaviour, description: d, when: "n_life >= 3 && any_7s == 0" }
  burst:       { category: behaviour, description: d, enter: "clicks_4s >= 3", exit: "clicks_4s == 0" }
  regular:     { category: lifecycle, description: d, when: "orders_life >= 1 && qty_life > 2 && skus_life >= 2" }
  buyer:       { category: lifecycle, description: d, when: "orders_life >= 1" }
  lead:        { category: lifecycle, description: d, when: "orders_life == 0 && n_life > 0" }
groups:
  satisfaction: { exclusive: true, priority: [unhappy, happy, rated] }
  lifecycle:    { exclusive: true, priority: [regular, buyer, lead] }
  value:        { exclusive: true, priority: [big, pricey] }
`;
export const SMALL = loadRules(SMALL_TEXT);
