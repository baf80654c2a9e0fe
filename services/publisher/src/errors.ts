/** Base of the publisher's errors: a stable code, a retriable flag and context. */
export class PublisherError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The input and output topics do not have the same partition count, so a decision's
 * outputs cannot go to the partition number it came from (the dedupe marker and per-
 * customer order both rely on it). Fatal at start-up.
 */
export class CoPartitioningError extends PublisherError {
  constructor(counts: Record<string, number>) {
    super(
      'CO_PARTITIONING_VIOLATED',
      `topics must have the same partition count, found ${Object.entries(counts)
        .map(([t, n]) => `${t}=${n}`)
        .join(', ')}; recreate or repartition them together`,
      false,
      { counts },
    );
  }
}

/**
 * The last record of a label-events partition carries no readable `ls-seq` /
 * `ls-source-partition`, or names another partition: something else writes to the public
 * topic, and the publisher cannot know what it already published. Stop rather than guess.
 */
export class UnreadableTailError extends PublisherError {
  constructor(topic: string, partition: number, offset: string, why: string) {
    super('UNREADABLE_TAIL', `last record of ${topic}[${partition}] at offset ${offset} ${why}`, false, { topic, partition, offset });
  }
}

/**
 * The partition was revoked or shutdown began while a batch was in hand: stop before
 * sending anything more. Retriable, so the runner abandons the batch without committing.
 */
export class PartitionInactiveError extends PublisherError {
  constructor(topic: string, partition: number) {
    super('PARTITION_INACTIVE', `${topic}[${partition}] is no longer ours (revoked or shutting down)`, true, { topic, partition });
  }
}
