import { Type, type Schema } from 'avsc';
import {
  avroTypeOptions,
  labelEventSchema,
  customerEventSchema,
  customerEventType,
  customerLabelsType,
  labelDecisionType,
  labelEventType,
  type CustomerEvent,
  type CustomerLabels,
  type LabelDecision,
  type LabelEvent,
} from './index';

const purchaseEvent: CustomerEvent = {
  eventId: 'e-1',
  customerId: 'c-1',
  eventType: 'PURCHASE',
  occurredAt: 1_700_000_000_123,
  ingestedAt: 1_700_000_000_456,
  source: { topic: 'storefront.purchases', partition: 3, offset: 42 },
  purchase: {
    orderId: 'o-1',
    amountMinor: 12_345,
    currency: 'EUR',
    amountMinorBase: 13_333,
    items: [{ sku: 'sku-1', category: 'shoes', quantity: 2, unitPriceMinor: 6_000 }],
    channel: 'WEB',
  },
  emailClick: null,
  supportTicket: null,
};

describe('avsc types', () => {
  it('round-trip a CustomerEvent with timestamps and longs as plain numbers', () => {
    const decoded = customerEventType.fromBuffer(customerEventType.toBuffer(purchaseEvent)) as CustomerEvent;
    expect(decoded).toEqual(purchaseEvent);
    expect(typeof decoded.occurredAt).toBe('number');
    expect(typeof decoded.ingestedAt).toBe('number');
    expect(decoded.occurredAt).toBe(1_700_000_000_123);
    expect((decoded.occurredAt as unknown) instanceof Date).toBe(false);
  });

  it('round-trip a ticket with an unwrapped nullable int', () => {
    const ticket: CustomerEvent = {
      ...purchaseEvent,
      eventType: 'SUPPORT_TICKET',
      purchase: null,
      supportTicket: { ticketId: 't-1', status: 'RESOLVED', priority: 'HIGH', satisfactionScore: 4 },
    };
    const decoded = customerEventType.fromBuffer(customerEventType.toBuffer(ticket)) as CustomerEvent;
    expect(decoded.supportTicket).toEqual({ ticketId: 't-1', status: 'RESOLVED', priority: 'HIGH', satisfactionScore: 4 });
  });

  it('reject values that do not match the schema', () => {
    expect(customerEventType.isValid({ ...purchaseEvent, eventType: 'REFUND' })).toBe(false);
    expect(customerEventType.isValid({ ...purchaseEvent, occurredAt: new Date() })).toBe(false);
  });

  it('round-trip a LabelDecision, LabelEvent and CustomerLabels', () => {
    const decision: LabelDecision = {
      decisionId: '3-17',
      sourcePartition: 3,
      seq: 17,
      customerId: 'c-1',
      effectiveAt: 1_700_000_000_000,
      decidedAt: 1_700_000_000_010,
      rulesVersion: 'v7',
      labelCategories: { 'High-Value': 'value' },
      cause: { kind: 'EVENT', eventId: 'e-1', eventType: 'PURCHASE', eventOccurredAt: 1_700_000_000_000 },
      changes: [
        {
          label: 'High-Value',
          category: 'value',
          change: 'ASSIGNED',
          reason: 'enter',
          features: { spend_90d: 123.5, tier: 'gold', vip: true, last: null },
        },
      ],
      labels: ['High-Value'],
    };
    expect(labelDecisionType.fromBuffer(labelDecisionType.toBuffer(decision))).toEqual(decision);

    const labelEvent: LabelEvent = {
      eventId: 'le-1',
      type: 'LABEL_ASSIGNED',
      customerId: 'c-1',
      label: 'High-Value',
      category: 'value',
      effectiveAt: 1,
      publishedAt: 2,
      rulesVersion: 'v7',
      reason: 'enter',
      features: { spend_90d: 123.5 },
      causeEventId: null,
      decisionId: '3-17',
      cause: 'RULES_CHANGED',
    };
    expect({ ...labelEventType.fromBuffer(labelEventType.toBuffer(labelEvent)) }).toEqual(labelEvent);
    // A label event written before `cause` existed reads as EVENT (the registry's BACKWARD rule).
    const v1 = Type.forSchema({ ...labelEventSchema, fields: labelEventSchema.fields.filter((f) => f.name !== 'cause') } as unknown as Schema, avroTypeOptions() as never);
    const { cause: _cause, ...older } = labelEvent;
    const resolver = labelEventType.createResolver(v1);
    expect({ ...labelEventType.fromBuffer(v1.toBuffer(older), resolver) }).toEqual({ ...older, cause: 'EVENT' });

    const current: CustomerLabels = {
      customerId: 'c-1',
      labels: [{ label: 'High-Value', category: 'value' }],
      updatedAt: 3,
      rulesVersion: 'v7',
      decisionId: '3-17',
    };
    expect(customerLabelsType.fromBuffer(customerLabelsType.toBuffer(current))).toEqual(current);
  });

  it('are created once and the embedded schemas are frozen', () => {
    expect(Object.isFrozen(customerEventSchema)).toBe(true);
    expect(Object.isFrozen(customerEventSchema.fields[0])).toBe(true);
    expect(avroTypeOptions()).not.toBe(avroTypeOptions());
  });
});
