/**
 * @labelstream/contracts — the Avro schemas, their generated TypeScript types, avsc
 * types to encode and decode them, and the topic, subject and DLQ header names.
 *
 * @example
 * import { customerEventType, type CustomerEvent } from '@labelstream/contracts';
 * const event = customerEventType.fromBuffer(payload) as CustomerEvent;
 *
 * @packageDocumentation
 */
export type { AvroFieldSchema, AvroRecordSchema, JsonValue } from './avro-schema';
export { avroTypeOptions, type AvroTypeOptions } from './avro-options';
export {
  customerEventSchema,
  customerEventType,
  customerLabelsSchema,
  customerLabelsType,
  labelDecisionSchema,
  labelDecisionType,
  labelEventSchema,
  labelEventType,
  typeForSchema,
} from './avro-types';
export { COMPATIBILITY, DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_TOPICS, DLQ_HEADERS, subjectFor, type TopicNames, type TopicRole } from './topics';

export {
  CHANNEL_SYMBOLS,
  EVENT_TYPE_SYMBOLS,
  TICKET_PRIORITY_SYMBOLS,
  TICKET_STATUS_SYMBOLS,
  type Channel,
  type CustomerEvent,
  type EmailClick,
  type EventType,
  type LineItem,
  type Purchase,
  type SourcePosition,
  type SupportTicket,
  type TicketPriority,
  type TicketStatus,
} from './generated/customer-event';
export {
  CAUSE_KIND_SYMBOLS,
  CHANGE_KIND_SYMBOLS,
  type CauseKind,
  type ChangeKind,
  type DecisionCause,
  type LabelChange,
  type LabelDecision,
} from './generated/label-decision';
export { LABEL_EVENT_TYPE_SYMBOLS, type LabelEvent, type LabelEventType } from './generated/label-event';
export { type CurrentLabel, type CustomerLabels } from './generated/customer-labels';

import type { LabelChange } from './generated/label-decision';
/** One feature value as carried in `LabelChange.features` and `LabelEvent.features`. */
export type FeatureValue = LabelChange['features'][string];
