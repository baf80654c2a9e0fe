import { labelEventType, customerLabelsType } from '@labelstream/contracts';
import { eventIdFor } from './event-id';
import { UNKNOWN_CATEGORY, causeTime, toPublicRecords } from './map-decision';
import { PUBLIC_HEADERS } from './headers';
import { decision } from './test-fixtures';

describe('toPublicRecords', () => {
  it('maps each change to a label event, in decision order, with stable ids', () => {
    const r = toPublicRecords(decision(), { publishedAt: 1_763_900_001_000 });
    expect(r.key).toBe('c-42');
    expect(r.labelEvents).toEqual([
      {
        eventId: eventIdFor('2-7', 'high-value', 'LABEL_ASSIGNED'),
        type: 'LABEL_ASSIGNED',
        customerId: 'c-42',
        label: 'high-value',
        category: 'value',
        effectiveAt: 1_763_900_000_000,
        publishedAt: 1_763_900_001_000,
        rulesVersion: 'rules@v3',
        reason: 'enter',
        features: { spend_90d: 1200.5 },
        causeEventId: 'e-1',
        decisionId: '2-7',
        cause: 'EVENT',
      },
      expect.objectContaining({ type: 'LABEL_REMOVED', label: 'first-time-buyer', category: 'lifecycle', eventId: eventIdFor('2-7', 'first-time-buyer', 'LABEL_REMOVED') }),
    ]);
    // Every record is valid against the public Avro schemas.
    for (const e of r.labelEvents) expect(labelEventType.isValid(e)).toBe(true);
    expect(customerLabelsType.isValid(r.customerLabels)).toBe(true);
  });

  it('says when a change comes from a rules deploy re-evaluating the customer', () => {
    const d = decision({ rulesVersion: 'rules@v4', cause: { kind: 'RULES_CHANGED', eventId: null, eventType: null, eventOccurredAt: 1_763_900_000_500 } });
    const r = toPublicRecords(d, { publishedAt: 1 });
    expect(r.labelEvents.map((e) => [e.cause, e.rulesVersion, e.causeEventId])).toEqual([
      ['RULES_CHANGED', 'rules@v4', null],
      ['RULES_CHANGED', 'rules@v4', null],
    ]);
    for (const e of r.labelEvents) expect(labelEventType.isValid(e)).toBe(true);
    expect(causeTime(d)).toBe(1_763_900_000_500);
  });

  it('gives the same ids and current set when the decision is re-sent later', () => {
    const a = toPublicRecords(decision(), { publishedAt: 1 });
    const b = toPublicRecords(decision(), { publishedAt: 2 });
    expect(b.labelEvents.map((e) => e.eventId)).toEqual(a.labelEvents.map((e) => e.eventId));
    expect(b.customerLabels).toEqual(a.customerLabels);
    expect(b.headers).toEqual(a.headers);
  });

  it('lists the full current set sorted, with categories from the changes, the lookup, or unknown', () => {
    const d = decision({ labels: ['vip', 'high-value', 'engaged', 'high-value'] });
    const r = toPublicRecords(d, { publishedAt: 1, categoryOf: (l) => (l === 'engaged' ? 'behaviour' : undefined) });
    expect(r.customerLabels).toEqual({
      customerId: 'c-42',
      labels: [
        { label: 'engaged', category: 'behaviour' },
        { label: 'high-value', category: 'value' },
        { label: 'vip', category: UNKNOWN_CATEGORY },
      ],
      updatedAt: d.decidedAt,
      rulesVersion: 'rules@v3',
      decisionId: '2-7',
    });
  });

  it('writes an empty set, not a tombstone, when the customer has no labels left', () => {
    const d = decision({ labels: [], changes: [{ label: 'engaged', category: 'behaviour', change: 'REMOVED', reason: 'exit', features: {} }] });
    const r = toPublicRecords(d, { publishedAt: 1 });
    expect(r.customerLabels.labels).toEqual([]);
    expect(customerLabelsType.isValid(r.customerLabels)).toBe(true);
  });

  it('stamps effectiveAt with the customer clock, not the time of a late cause event (docs/label-events.md)', () => {
    // The cause arrived out of order: it happened 5 minutes before the customer's newest event.
    const d = decision({ cause: { kind: 'EVENT', eventId: 'click-late', eventType: 'EMAIL_CLICK', eventOccurredAt: 1_763_900_000_000 - 300_000 }, effectiveAt: 1_763_900_000_000 });
    const [e] = toPublicRecords(d, { publishedAt: 1_763_900_001_000 }).labelEvents;
    expect(e).toMatchObject({ causeEventId: 'click-late', effectiveAt: 1_763_900_000_000 });
  });

  it('has no cause event for time-based changes and measures latency from the due time', () => {
    const d = decision({ cause: { kind: 'TIMER', eventId: null, eventType: null, eventOccurredAt: 5000 }, effectiveAt: 5000 });
    expect(toPublicRecords(d, { publishedAt: 1 }).labelEvents[0]!.causeEventId).toBeNull();
    expect(causeTime(d)).toBe(5000);
    expect(causeTime(decision({ cause: { kind: 'TIMER', eventId: null, eventType: null, eventOccurredAt: null }, effectiveAt: 9000 }))).toBe(9000);
  });

  it('carries the position headers', () => {
    expect(toPublicRecords(decision(), { publishedAt: 1 }).headers).toEqual({
      [PUBLIC_HEADERS.seq]: '7',
      [PUBLIC_HEADERS.sourcePartition]: '2',
      [PUBLIC_HEADERS.decisionId]: '2-7',
      [PUBLIC_HEADERS.rulesVersion]: 'rules@v3',
    });
  });

  it('does not share the features object with the decision', () => {
    const d = decision();
    const r = toPublicRecords(d, { publishedAt: 1 });
    r.labelEvents[0]!.features.x = 1;
    expect(d.changes[0]!.features).not.toHaveProperty('x');
  });
});
