import type { ChangeKind, CurrentLabel, CustomerLabels, LabelDecision, LabelEvent, LabelEventType } from '@labelstream/contracts';
import { eventIdFor } from './event-id';
import { publicHeaders } from './headers';

/** Category written for a current label whose category this publisher cannot know (see {@link PublicRecordOptions.categoryOf}). */
export const UNKNOWN_CATEGORY = 'unknown';

const EVENT_TYPE: Record<ChangeKind, LabelEventType> = { ASSIGNED: 'LABEL_ASSIGNED', REMOVED: 'LABEL_REMOVED' };

/** Maps a decision's change kind to the public event type. */
export function eventTypeFor(change: ChangeKind): LabelEventType {
  return EVENT_TYPE[change];
}

export interface PublicRecordOptions {
  /** Wall-clock time written as `publishedAt` (epoch millis). */
  publishedAt: number;
  /**
   * Category of a label the decision holds but did not change. A decision names the
   * category only of the labels it changes, while `CustomerLabels` lists a category for
   * every current label; the caller remembers categories it has seen. Unknown ones are
   * written as {@link UNKNOWN_CATEGORY}.
   */
  categoryOf?: (label: string) => string | undefined;
}

/** Everything one decision publishes: its label events (in decision order) and the customer's current set. */
export interface PublicRecords {
  /** Kafka key of every record: the customer id (UTF-8). */
  key: string;
  labelEvents: LabelEvent[];
  customerLabels: CustomerLabels;
  /** Headers for each record (`ls-seq`, `ls-source-partition`, `ls-decision-id`, `ls-rules-version`). */
  headers: Record<string, string>;
}

/**
 * The public records of one decision. Pure and deterministic except for `publishedAt`:
 * `eventId`s derive from (decisionId, label, type) and `CustomerLabels.updatedAt` is the
 * decision's `decidedAt`, so a re-sent decision produces the same current-labels value.
 *
 * `CustomerLabels.labels` is sorted by label name and de-duplicated; a customer without
 * labels gets an empty list (the schema's choice), never a tombstone, so a compacted
 * reader can tell "no labels" from "never seen".
 */
export function toPublicRecords(decision: LabelDecision, opts: PublicRecordOptions): PublicRecords {
  const labelEvents: LabelEvent[] = decision.changes.map((c) => {
    const type = eventTypeFor(c.change);
    return {
      eventId: eventIdFor(decision.decisionId, c.label, type),
      type,
      customerId: decision.customerId,
      label: c.label,
      category: c.category,
      effectiveAt: decision.effectiveAt,
      publishedAt: opts.publishedAt,
      rulesVersion: decision.rulesVersion,
      reason: c.reason,
      features: { ...c.features },
      causeEventId: decision.cause.kind === 'EVENT' ? decision.cause.eventId : null,
      decisionId: decision.decisionId,
      cause: decision.cause.kind,
    };
  });
  const labels: CurrentLabel[] = [];
  const sorted = decision.labels.slice().sort();
  for (let i = 0; i < sorted.length; i++) {
    const label = sorted[i]!;
    if (i > 0 && label === sorted[i - 1]) continue;
    labels.push({ label, category: categoryFor(decision, label) ?? opts.categoryOf?.(label) ?? UNKNOWN_CATEGORY });
  }
  return {
    key: decision.customerId,
    labelEvents,
    customerLabels: {
      customerId: decision.customerId,
      labels,
      updatedAt: decision.decidedAt,
      rulesVersion: decision.rulesVersion,
      decisionId: decision.decisionId,
    },
    headers: publicHeaders(decision),
  };
}

/** The category the decision itself names for `label`: its (last) change's, else its `labelCategories` entry. */
function categoryFor(decision: LabelDecision, label: string): string | undefined {
  const changes = decision.changes;
  for (let i = changes.length - 1; i >= 0; i--) if (changes[i]!.label === label) return changes[i]!.category;
  const categories = decision.labelCategories;
  return categories && Object.hasOwn(categories, label) ? categories[label] : undefined;
}

/** When the cause of a decision happened: the start of its end-to-end latency (epoch millis). */
export function causeTime(decision: Pick<LabelDecision, 'cause' | 'effectiveAt'>): number {
  return decision.cause.eventOccurredAt ?? decision.effectiveAt;
}
