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

/** One recent decision of a customer as an explanation shows it. */
export interface HistoryItem {
  at: number;
  /** `<EVENT_TYPE> <eventId>`, `timer` or `rules changed`. */
  cause: string;
  /** `+label` / `-label`, with the reason in parentheses unless it is the plain enter / exit. */
  changes: string[];
  rules: string;
}

/**
 * One entry of a customer's recent-decision history, as stored: a JSON array
 * `[at, cause, changes, rulesVersion]` (no newline: entries are stored one per line). Kept
 * short, since every customer with a decision carries up to EVALUATOR_HISTORY_CAP (3) of them in Redis.
 */
export function historyEntry(seqless: PendingDecision): string {
  const { cause } = seqless;
  const item: HistoryItem = {
    at: seqless.effectiveAt,
    cause: cause.kind === 'EVENT' ? `${cause.eventType ?? 'event'} ${cause.eventId ?? ''}`.trim() : cause.kind === 'TIMER' ? 'timer' : 'rules changed',
    changes: seqless.changes.map((c) => {
      const sign = c.change === 'ASSIGNED' ? '+' : '-';
      const plain = c.reason === (c.change === 'ASSIGNED' ? 'enter' : 'exit');
      return plain ? `${sign}${c.label}` : `${sign}${c.label} (${c.reason})`;
    }),
    rules: seqless.rulesVersion,
  };
  return JSON.stringify([item.at, item.cause, item.changes, item.rules]);
}

/** Inverse of {@link historyEntry}; an entry it cannot read comes back as `{ raw }`. */
export function parseHistoryEntry(entry: string): HistoryItem | { raw: string } {
  try {
    const v: unknown = JSON.parse(entry);
    if (Array.isArray(v) && v.length === 4 && typeof v[0] === 'number' && typeof v[1] === 'string' && Array.isArray(v[2]) && typeof v[3] === 'string') {
      return { at: v[0], cause: v[1], changes: (v[2] as unknown[]).map(String), rules: v[3] };
    }
  } catch {
    // fall through
  }
  return { raw: entry };
}
