import type { LabelDecision } from '@labelstream/contracts';

/**
 * A decision as kept in the Redis outbox: everything but the sequence number Redis assigns
 * (and `labelCategories`, optional so outbox entries written before it existed still drain).
 */
export type PendingDecision = Omit<LabelDecision, 'decisionId' | 'sourcePartition' | 'seq' | 'labelCategories'> & {
  labelCategories?: Record<string, string>;
};

/** Completes an outbox entry into the internal decision record. */
export function toDecision(partition: number, seq: number, pending: PendingDecision): LabelDecision {
  return { decisionId: `${partition}-${seq}`, sourcePartition: partition, seq, ...pending, labelCategories: pending.labelCategories ?? {} };
}

/** One line of a customer's recent-decision history (for explanations). */
export function historyEntry(seqless: PendingDecision): string {
  return JSON.stringify({
    at: seqless.effectiveAt,
    cause: seqless.cause.kind === 'EVENT' ? `${seqless.cause.eventType ?? 'event'} ${seqless.cause.eventId ?? ''}`.trim() : 'timer',
    changes: seqless.changes.map((c) => `${c.change === 'ASSIGNED' ? '+' : '-'}${c.label} (${c.reason})`),
    rules: seqless.rulesVersion,
  });
}
