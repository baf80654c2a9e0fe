/**
 * Errors the ingest service throws. Bad *input* is never thrown — it is dead-lettered —
 * so these are either a signal to the consumer runner (retry / abandon the batch) or a
 * misconfiguration. The runner decides retry vs crash from `retriable` alone.
 */
export abstract class IngestServiceError extends Error {
  abstract readonly code: string;
  abstract readonly retriable: boolean;
  constructor(
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The batch's partition was revoked, or shutdown began, before its output was sent.
 * Thrown rather than returned: the runner commits a batch whose handler *returns*, so an
 * early return would skip the unsent messages. Retriable, so the runner re-checks
 * `isActive()` and leaves the batch uncommitted for the next owner to re-read.
 */
export class BatchAbandonedError extends IngestServiceError {
  readonly code = 'BATCH_ABANDONED';
  readonly retriable = true;
  constructor(context: { topic: string; partition: number; processed: number; total: number }) {
    super(`batch of ${context.topic}/${context.partition} abandoned after ${context.processed} of ${context.total} messages (partition revoked or shutting down)`, context);
  }
}

/** A batch came from a topic that is not one of the configured raw topics (a wiring bug). */
export class UnknownRawTopicError extends IngestServiceError {
  readonly code = 'INGEST_UNKNOWN_RAW_TOPIC';
  readonly retriable = false;
  constructor(topic: string) {
    super(`topic ${topic} is not a configured raw topic`, { topic });
  }
}

/** The configured topic names cannot work together (e.g. two raw kinds on one topic). */
export class InvalidIngestTopicsError extends IngestServiceError {
  readonly code = 'INGEST_TOPICS_INVALID';
  readonly retriable = false;
  constructor(message: string, context: Record<string, unknown>) {
    super(message, context);
  }
}

/** handleBatch was called before init() registered the canonical schema (a wiring bug). */
export class IngestNotInitialisedError extends IngestServiceError {
  readonly code = 'INGEST_NOT_INITIALISED';
  readonly retriable = false;
  constructor() {
    super('createIngest: init() must complete before handleBatch');
  }
}
