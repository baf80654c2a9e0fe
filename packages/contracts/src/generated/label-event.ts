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
  effectiveAt: number;
  publishedAt: number;
  rulesVersion: string;
  reason: string;
  features: Record<string, number | string | boolean | null>;
  /** The input event that caused it; null for time-based changes. */
  causeEventId: string | null;
  decisionId: string;
}

/** Avro enum LabelEventType. */
export type LabelEventType = 'LABEL_ASSIGNED' | 'LABEL_REMOVED';
/** Symbols of {@link LabelEventType}, in schema order. */
export const LABEL_EVENT_TYPE_SYMBOLS: readonly LabelEventType[] = ['LABEL_ASSIGNED', 'LABEL_REMOVED'];

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
      }
    },
    {
      "name": "publishedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
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
      "doc": "The input event that caused it; null for time-based changes."
    },
    {
      "name": "decisionId",
      "type": "string"
    }
  ]
};
