import { Type } from 'avsc';
import type { AvroRecordSchema } from './avro-schema';
import { avroTypeOptions } from './avro-options';
import { customerEventSchema } from './generated/customer-event';
import { customerLabelsSchema } from './generated/customer-labels';
import { labelDecisionSchema } from './generated/label-decision';
import { labelEventSchema } from './generated/label-event';

/** Freezes the embedded schema objects so no caller can change a contract in place. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

for (const s of [customerEventSchema, customerLabelsSchema, labelDecisionSchema, labelEventSchema]) deepFreeze(s);

/** Parses an Avro record schema with {@link avroTypeOptions} (longs and timestamps decode to numbers). */
export function typeForSchema(schema: AvroRecordSchema): Type {
  // avsc does not export its schema JSON types; our AvroRecordSchema is a valid Avro schema by construction.
  return Type.forSchema(schema as unknown as Parameters<typeof Type.forSchema>[0], avroTypeOptions());
}

/**
 * avsc type of `labels.customer-events.v1` values (`CustomerEvent`). Created once at load.
 * Decodes timestamps and longs to `number`.
 */
export const customerEventType: Type = typeForSchema(customerEventSchema);
/** avsc type of `labels.decisions.v1` values (`LabelDecision`). */
export const labelDecisionType: Type = typeForSchema(labelDecisionSchema);
/** avsc type of `crm.label-events.v1` values (`LabelEvent`). */
export const labelEventType: Type = typeForSchema(labelEventSchema);
/** avsc type of `crm.customer-labels.v1` values (`CustomerLabels`). */
export const customerLabelsType: Type = typeForSchema(customerLabelsSchema);

export { customerEventSchema, customerLabelsSchema, labelDecisionSchema, labelEventSchema };
