/** Another evaluator owns the partition now (a rebalance happened): stop, write nothing. */
export class FencedError extends Error {
  readonly code = 'FENCED';
  readonly retriable = false;
  constructor(readonly partition: number, readonly expectedEpoch: number, readonly currentEpoch: string) {
    super(`partition ${partition} was taken over (our epoch ${expectedEpoch}, current ${currentEpoch || 'none'})`);
    this.name = 'FencedError';
  }
}

/** A customer's state changed under us; only possible with two writers, so treated like fencing. */
export class VersionConflictError extends Error {
  readonly code = 'VERSION_CONFLICT';
  readonly retriable = true;
  constructor(readonly partition: number, readonly customerId: string, readonly expected: number, readonly found: number) {
    super(`state of a customer in partition ${partition} is at version ${found}, expected ${expected}`);
    this.name = 'VersionConflictError';
  }
}

/**
 * Redis refuses this client (wrong credentials, an untrusted certificate) or does not
 * answer at start-up. The message names what failed and the variable to check, with the
 * password masked.
 */
export class RedisAccessError extends Error {
  constructor(
    readonly code: 'REDIS_AUTH_FAILED' | 'REDIS_TLS_FAILED' | 'REDIS_UNREACHABLE',
    message: string,
    readonly retriable: boolean,
    readonly context: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RedisAccessError';
  }
}

/**
 * Fewer replicas than REDIS_WAIT_REPLICAS acknowledged a commit within the wait timeout.
 * The commit is on the master but may not survive its failover, so nothing of it is
 * published yet: the batch is retried (its events are deduplicated, its decisions drained
 * from the outbox once replicated).
 */
export class NotReplicatedError extends Error {
  readonly code = 'REDIS_NOT_REPLICATED';
  readonly retriable = true;
  constructor(readonly partition: number, readonly wanted: number, readonly acked: number, readonly timeoutMs: number) {
    super(`partition ${partition}: ${acked} of ${wanted} Redis replicas acknowledged within ${timeoutMs} ms`);
    this.name = 'NotReplicatedError';
  }
}

/** A rules deploy was refused: another deploy changed the channel since it was read (nothing written). */
export class RulesConflictError extends Error {
  readonly code = 'RULES_CONFLICT';
  readonly retriable = false;
  constructor(readonly expectedSeq: number, readonly currentSeq: number) {
    super(`another deploy published rules sequence ${currentSeq} while this one expected ${expectedSeq}: nothing was changed; review the rules in force and deploy again`);
    this.name = 'RulesConflictError';
  }
}
