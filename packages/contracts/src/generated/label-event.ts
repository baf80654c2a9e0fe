// GENERATED FROM schemas/label-event.avsc — do not edit; run pnpm --filter @labelstream/contracts gen
import type { AvroRecordSchema } from '../avro-schema';

/** Public: a customer gained (LABEL_ASSIGNED) or lost (LABEL_REMOVED) a label. Topic crm.label-events.v1, key = customerId (UTF-8); per-customer order is the partition order. */
export interface LabelEvent {
  /** Stable id derived from (decisionId, label, type): identical if ever re-sent; dedupe on it. */
  eventId: string;
  type: LabelEventType;
  customerId: string;
  label: string;
  category: string;
  /** Event time at which the change takes effect: the customer's clock when the rules were evaluated, i.e. the newest occurredAt among the customer's events applied so far, or the due time of a time-based change if that is later. NOT the time of causeEventId: an event that arrives after newer events of the same customer (out of order across raw topics, within the allowed lateness) is counted in the windows of its own time, but the decision is made at the clock, so effectiveAt is the newer time. Never decreases for one customer, so it orders a customer's changes; the wall-clock time of writing is publishedAt. */
  effectiveAt: number;
  /** Wall-clock time at which the publisher wrote the record. */
  publishedAt: number;
  rulesVersion: string;
  reason: string;
  features: Record<string, number | string | boolean | null>;
  /** The input event that caused it; null for time-based changes. Its own occurredAt may be earlier than effectiveAt (see effectiveAt). */
  causeEventId: string | null;
  decisionId: string;
  /** What led to the change: an input event (causeEventId), the passing of time (a window or dwell ending), or a rules deploy re-evaluating the customer (rulesVersion is the new version). Added after v1; records written before it read as EVENT. */
  cause: LabelEventCause;
}

/** Avro enum LabelEventType. */
export type LabelEventType = 'LABEL_ASSIGNED' | 'LABEL_REMOVED';
/** Symbols of {@link LabelEventType}, in schema order. */
export const LABEL_EVENT_TYPE_SYMBOLS: readonly LabelEventType[] = ['LABEL_ASSIGNED', 'LABEL_REMOVED'];

/** Avro enum LabelEventCause. */
export type LabelEventCause = 'EVENT' | 'TIMER' | 'RULES_CHANGED';
/** Symbols of {@link LabelEventCause}, in schema order. Unknown symbols resolve to 'EVENT' (schema default). */
export const LABEL_EVENT_CAUSE_SYMBOLS: readonly LabelEventCause[] = ['EVENT', 'TIMER', 'RULES_CHANGED'];

/** The Avro schema of schemas/label-event.avsc (io.labelstream.public.v1.LabelEvent), embedded at generation time. */
export const labelEventSchema: AvroRecordSchema = {
  "type": "record",
  "name": "LabelEvent",
  "namespace": "io.labelstream.public.v1",
  "doc": "Public: a customer gained (LABEL_ASSIGNED) or lost (LABEL_REMOVED) a label. Topic crm.label-events.v1, key = customerId (UTF-8); per-customer order is the partition order.",
  "fields": [
    {
      "name": "eventId",
      "type": "string",
      "doc": "Stable id derived from (decisionId, label, type): identical if ever re-sent; dedupe on it."
    },
    {
      "name": "type",
      "type": {
        "type": "enum",
        "name": "LabelEventType",
        "symbols": [
          "LABEL_ASSIGNED",
          "LABEL_REMOVED"
        ]
      }
    },
    {
      "name": "customerId",
      "type": "string"
    },
    {
      "name": "label",
      "type": "string"
    },
    {
      "name": "category",
      "type": "string"
    },
    {
      "name": "effectiveAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Event time at which the change takes effect: the customer's clock when the rules were evaluated, i.e. the newest occurredAt among the customer's events applied so far, or the due time of a time-based change if that is later. NOT the time of causeEventId: an event that arrives after newer events of the same customer (out of order across raw topics, within the allowed lateness) is counted in the windows of its own time, but the decision is made at the clock, so effectiveAt is the newer time. Never decreases for one customer, so it orders a customer's changes; the wall-clock time of writing is publishedAt."
    },
    {
      "name": "publishedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Wall-clock time at which the publisher wrote the record."
    },
    {
      "name": "rulesVersion",
      "type": "string"
    },
    {
      "name": "reason",
      "type": "string"
    },
    {
      "name": "features",
      "type": {
        "type": "map",
        "values": [
          "null",
          "double",
          "string",
          "boolean"
        ]
      }
    },
    {
      "name": "causeEventId",
      "type": [
        "null",
        "string"
      ],
      "default": null,
      "doc": "The input event that caused it; null for time-based changes. Its own occurredAt may be earlier than effectiveAt (see effectiveAt)."
    },
    {
      "name": "decisionId",
      "type": "string"
    },
    {
      "name": "cause",
      "type": {
        "type": "enum",
        "name": "LabelEventCause",
        "symbols": [
          "EVENT",
          "TIMER",
          "RULES_CHANGED"
        ],
        "default": "EVENT"
      },
      "default": "EVENT",
      "doc": "What led to the change: an input event (causeEventId), the passing of time (a window or dwell ending), or a rules deploy re-evaluating the customer (rulesVersion is the new version). Added after v1; records written before it read as EVENT."
    }
  ]
};
