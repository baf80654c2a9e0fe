// GENERATED FROM schemas/label-decision.avsc — do not edit; run pnpm --filter @labelstream/contracts gen
import type { AvroRecordSchema } from '../avro-schema';

/** Internal: one committed evaluation that changed a customer's labels, drained from the evaluator's Redis outbox to labels.decisions.v1 (key = customerId). (sourcePartition, seq) is unique and increases by one per decision within a source partition. */
export interface LabelDecision {
  /** <sourcePartition>-<seq>, stable across re-sends. */
  decisionId: string;
  /** Partition of labels.customer-events.v1 whose owner made the decision. */
  sourcePartition: number;
  /** Per-source-partition sequence number, starting at 1, gap-free. */
  seq: number;
  customerId: string;
  /** Event time at which the change holds (event time, or the due time of a timer). */
  effectiveAt: number;
  /** Wall clock when the evaluator committed it. */
  decidedAt: number;
  rulesVersion: string;
  cause: DecisionCause;
  changes: LabelChange[];
  /** The customer's full label set after this decision. */
  labels: string[];
  /** Category of every label in `labels` (added after v1; empty from older evaluators). */
  labelCategories: Record<string, string>;
}

export interface DecisionCause {
  kind: CauseKind;
  eventId: string | null;
  eventType: string | null;
  /** Event time of the triggering event (EVENT) or due time (TIMER); start of end-to-end latency. RULES_CHANGED: when the partition switched to the new rules. */
  eventOccurredAt: number | null;
}

/** RULES_CHANGED: the re-evaluation of every customer after a rules deploy (added after v1). */
export type CauseKind = 'EVENT' | 'TIMER' | 'RULES_CHANGED';
/** Symbols of {@link CauseKind}, in schema order. */
export const CAUSE_KIND_SYMBOLS: readonly CauseKind[] = ['EVENT', 'TIMER', 'RULES_CHANGED'];

export interface LabelChange {
  label: string;
  category: string;
  change: ChangeKind;
  /** Which condition decided it: enter, exit, group:<name>, rules-changed. */
  reason: string;
  /** The feature values the label's conditions read. */
  features: Record<string, number | string | boolean | null>;
}

/** Avro enum ChangeKind. */
export type ChangeKind = 'ASSIGNED' | 'REMOVED';
/** Symbols of {@link ChangeKind}, in schema order. */
export const CHANGE_KIND_SYMBOLS: readonly ChangeKind[] = ['ASSIGNED', 'REMOVED'];

/** The Avro schema of schemas/label-decision.avsc (io.labelstream.decisions.v1.LabelDecision), embedded at generation time. */
export const labelDecisionSchema: AvroRecordSchema = {
  "type": "record",
  "name": "LabelDecision",
  "namespace": "io.labelstream.decisions.v1",
  "doc": "Internal: one committed evaluation that changed a customer's labels, drained from the evaluator's Redis outbox to labels.decisions.v1 (key = customerId). (sourcePartition, seq) is unique and increases by one per decision within a source partition.",
  "fields": [
    {
      "name": "decisionId",
      "type": "string",
      "doc": "<sourcePartition>-<seq>, stable across re-sends."
    },
    {
      "name": "sourcePartition",
      "type": "int",
      "doc": "Partition of labels.customer-events.v1 whose owner made the decision."
    },
    {
      "name": "seq",
      "type": "long",
      "doc": "Per-source-partition sequence number, starting at 1, gap-free."
    },
    {
      "name": "customerId",
      "type": "string"
    },
    {
      "name": "effectiveAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Event time at which the change holds (event time, or the due time of a timer)."
    },
    {
      "name": "decidedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Wall clock when the evaluator committed it."
    },
    {
      "name": "rulesVersion",
      "type": "string"
    },
    {
      "name": "cause",
      "type": {
        "type": "record",
        "name": "DecisionCause",
        "fields": [
          {
            "name": "kind",
            "type": {
              "type": "enum",
              "name": "CauseKind",
              "symbols": [
                "EVENT",
                "TIMER",
                "RULES_CHANGED"
              ],
              "doc": "RULES_CHANGED: the re-evaluation of every customer after a rules deploy (added after v1)."
            }
          },
          {
            "name": "eventId",
            "type": [
              "null",
              "string"
            ],
            "default": null
          },
          {
            "name": "eventType",
            "type": [
              "null",
              "string"
            ],
            "default": null
          },
          {
            "name": "eventOccurredAt",
            "type": [
              "null",
              "long"
            ],
            "default": null,
            "doc": "Event time of the triggering event (EVENT) or due time (TIMER); start of end-to-end latency. RULES_CHANGED: when the partition switched to the new rules."
          }
        ]
      }
    },
    {
      "name": "changes",
      "type": {
        "type": "array",
        "items": {
          "type": "record",
          "name": "LabelChange",
          "fields": [
            {
              "name": "label",
              "type": "string"
            },
            {
              "name": "category",
              "type": "string"
            },
            {
              "name": "change",
              "type": {
                "type": "enum",
                "name": "ChangeKind",
                "symbols": [
                  "ASSIGNED",
                  "REMOVED"
                ]
              }
            },
            {
              "name": "reason",
              "type": "string",
              "doc": "Which condition decided it: enter, exit, group:<name>, rules-changed."
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
              },
              "doc": "The feature values the label's conditions read."
            }
          ]
        }
      }
    },
    {
      "name": "labels",
      "type": {
        "type": "array",
        "items": "string"
      },
      "doc": "The customer's full label set after this decision."
    },
    {
      "name": "labelCategories",
      "type": {
        "type": "map",
        "values": "string"
      },
      "default": {},
      "doc": "Category of every label in `labels` (added after v1; empty from older evaluators)."
    }
  ]
};
