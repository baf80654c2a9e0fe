/**
 * What to do with a decision given the last sequence number already published for its
 * partition:
 * - `duplicate`: `seq <= lastSeq` — already published (a re-send after a crash); drop it.
 * - `next`: `seq == lastSeq + 1` — publish.
 * - `gap`: `seq > lastSeq + 1` — publish, but decisions in between were never seen: an
 *   upstream bug or lost data; the caller reports it loudly.
 *
 * `lastSeq` is 0 when nothing was ever published for the partition (sequences start at 1).
 */
export type SeqVerdict = 'duplicate' | 'next' | 'gap';

export function classifySeq(lastSeq: number, seq: number): SeqVerdict {
  if (seq <= lastSeq) return 'duplicate';
  return seq === lastSeq + 1 ? 'next' : 'gap';
}
