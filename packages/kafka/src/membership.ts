/**
 * The kafkajs protocol error types that mean this member lost its place in its consumer
 * group: a rebalance began (`REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`), the coordinator
 * moved (`NOT_COORDINATOR_FOR_GROUP`) or forgot the member (`UNKNOWN_MEMBER_ID`, after an
 * expulsion). They are exactly the types kafkajs's own runner re-joins on (its
 * `isRebalancing` plus `UNKNOWN_MEMBER_ID`). kafkajs names code 16 `NOT_COORDINATOR_FOR_GROUP`
 * (not `NOT_COORDINATOR`). `FENCED_INSTANCE_ID` is left out: it needs static membership,
 * which we do not use, and means another process took this member's identity — re-joining
 * would fence that one in turn.
 */
export const GROUP_MEMBERSHIP_ERROR_TYPES: ReadonlySet<string> = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP', 'UNKNOWN_MEMBER_ID']);

/** How deep the `cause` chain is searched (kafkajs wraps at most twice). */
const MAX_DEPTH = 5;

/**
 * The kafkajs group error behind `err` (itself or one of its causes) when this member was
 * expelled or a rebalance began; undefined otherwise. Nothing is wrong with the data:
 * kafkajs re-joins the group when such an error reaches it unwrapped, but wrapped (as
 * `commitOffsets` wraps it, in a non-retriable error) it stops the consumer for good — so
 * callers rethrow what this returns instead of the wrapper.
 */
export function groupMembershipLoss(err: unknown): (Error & { type: string }) | undefined {
  let e = err as { type?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < MAX_DEPTH; depth++) {
    if (typeof e.type === 'string' && GROUP_MEMBERSHIP_ERROR_TYPES.has(e.type)) return e as Error & { type: string };
    e = e.cause as typeof e;
  }
  return undefined;
}
