import type { ChangeKind } from '@labelstream/contracts';

/** What identifies one label change when an observed sequence is checked against the oracle. */
export interface ChangeKey {
  readonly label: string;
  readonly change: ChangeKind;
  readonly effectiveAt: number;
  /** The causing event, or null for a time-based change. */
  readonly causeEventId: string | null;
  /** When given (on both sides): the rules version the change was decided under and its cause kind (EVENT, TIMER, RULES_CHANGED). */
  readonly rulesVersion?: string;
  readonly cause?: string;
}

/** How one customer's observed changes compare with the expected ones. */
export interface SequenceComparison {
  readonly expected: number;
  readonly actual: number;
  /** Expected changes that were observed. */
  readonly matched: number;
  /** Expected but never observed. */
  readonly missing: ChangeKey[];
  /** Observed but not expected (or observed more often than expected). */
  readonly unexplained: ChangeKey[];
  /** Observed changes that came after one the oracle puts later. */
  readonly outOfOrder: number;
}

const keyOf = (c: ChangeKey): string => `${c.label}\u0000${c.change}\u0000${c.effectiveAt}\u0000${c.causeEventId ?? ''}\u0000${c.rulesVersion ?? ''}\u0000${c.cause ?? ''}`;

/**
 * Compares one customer's observed label changes (already de-duplicated, in the order a
 * consumer sees them) with the expected sequence. Equal keys are matched in order (the
 * n-th observation of a key with the n-th expectation of it); a matched change is out of
 * order when an earlier observation was matched to a later expectation.
 */
export function compareSequences(expected: readonly ChangeKey[], actual: readonly ChangeKey[]): SequenceComparison {
  const positions = new Map<string, number[]>();
  expected.forEach((c, i) => {
    const k = keyOf(c);
    const list = positions.get(k);
    if (list) list.push(i);
    else positions.set(k, [i]);
  });
  const used = new Map<string, number>();
  const seen = new Set<number>();
  const unexplained: ChangeKey[] = [];
  let outOfOrder = 0;
  let latest = -1;
  for (const c of actual) {
    const k = keyOf(c);
    const n = used.get(k) ?? 0;
    const at = positions.get(k)?.[n];
    if (at === undefined) {
      unexplained.push(c);
      continue;
    }
    used.set(k, n + 1);
    seen.add(at);
    if (at < latest) outOfOrder++;
    else latest = at;
  }
  const missing = expected.filter((_, i) => !seen.has(i));
  return { expected: expected.length, actual: actual.length, matched: seen.size, missing, unexplained, outOfOrder };
}
