import type { LabelDecision } from '@labelstream/contracts';

/**
 * Kafka header names on public records (`crm.label-events.v1`, `crm.customer-labels.v1`).
 * Values are UTF-8 strings. `seq` and `sourcePartition` make the tail of each
 * label-events partition the publisher's commit marker (see the publisher README).
 */
export const PUBLIC_HEADERS = Object.freeze({
  /** The decision's per-source-partition sequence number, decimal. */
  seq: 'ls-seq',
  /** The partition of labels.customer-events.v1 the decision came from, decimal. */
  sourcePartition: 'ls-source-partition',
  decisionId: 'ls-decision-id',
  rulesVersion: 'ls-rules-version',
} as const);

/** Headers carried by every public record made from `decision`. */
export function publicHeaders(decision: Pick<LabelDecision, 'seq' | 'sourcePartition' | 'decisionId' | 'rulesVersion'>): Record<string, string> {
  return {
    [PUBLIC_HEADERS.seq]: String(decision.seq),
    [PUBLIC_HEADERS.sourcePartition]: String(decision.sourcePartition),
    [PUBLIC_HEADERS.decisionId]: decision.decisionId,
    [PUBLIC_HEADERS.rulesVersion]: decision.rulesVersion,
  };
}

/** Kafka header values as kafkajs hands them out. */
export type RawHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

function headerText(headers: RawHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[v.length - 1] : v;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

/** Position of a published decision, read back from a public record's headers. */
export interface PublishedPosition {
  seq: number;
  sourcePartition: number;
  decisionId?: string;
}

/**
 * Reads `ls-seq` and `ls-source-partition` from a public record; undefined when either is
 * missing or not a non-negative integer (a record Labelstream did not write).
 */
export function readPublishedPosition(headers: RawHeaders | undefined): PublishedPosition | undefined {
  const seqText = headerText(headers, PUBLIC_HEADERS.seq);
  const partitionText = headerText(headers, PUBLIC_HEADERS.sourcePartition);
  if (!seqText || !partitionText) return undefined;
  const seq = Number(seqText);
  const sourcePartition = Number(partitionText);
  if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isSafeInteger(sourcePartition) || sourcePartition < 0) return undefined;
  const decisionId = headerText(headers, PUBLIC_HEADERS.decisionId);
  return { seq, sourcePartition, ...(decisionId !== undefined ? { decisionId } : {}) };
}
