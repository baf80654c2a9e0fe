// GENERATED FROM schemas/customer-labels.avsc — do not edit; run pnpm --filter @labelstream/contracts gen
import type { AvroRecordSchema } from '../avro-schema';

/** Public, compacted topic crm.customer-labels.v1 (key = customerId): a customer's full current label set after every change. A customer with no labels gets an empty list, not a tombstone. */
export interface CustomerLabels {
  customerId: string;
  labels: CurrentLabel[];
  updatedAt: number;
  rulesVersion: string;
  decisionId: string;
}

export interface CurrentLabel {
  label: string;
  category: string;
}

/** The Avro schema of schemas/customer-labels.avsc (io.labelstream.public.v1.CustomerLabels), embedded at generation time. */
export const customerLabelsSchema: AvroRecordSchema = {
  "type": "record",
  "name": "CustomerLabels",
  "namespace": "io.labelstream.public.v1",
  "doc": "Public, compacted topic crm.customer-labels.v1 (key = customerId): a customer's full current label set after every change. A customer with no labels gets an empty list, not a tombstone.",
  "fields": [
    {
      "name": "customerId",
      "type": "string"
    },
    {
      "name": "labels",
      "type": {
        "type": "array",
        "items": {
          "type": "record",
          "name": "CurrentLabel",
          "fields": [
            {
              "name": "label",
              "type": "string"
            },
            {
              "name": "category",
              "type": "string"
            }
          ]
        }
      }
    },
    {
      "name": "updatedAt",
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
      "name": "decisionId",
      "type": "string"
    }
  ]
};
