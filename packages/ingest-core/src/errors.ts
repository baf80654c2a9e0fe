/**
 * Errors thrown by ingest-core. Bad *input* is never thrown: it is returned as a
 * {@link NormaliseRejection}. These errors mean the caller is misconfigured or passed
 * something no Kafka client produces, so none of them is retriable.
 */
export abstract class IngestCoreError extends Error {
  abstract readonly code: string;
  readonly retriable = false;
}

/** One problem found in an {@link IngestPolicyOptions} object. */
export interface PolicyIssue {
  /** The option at fault, e.g. `fxRatesToBase.EUR`. */
  readonly option: string;
  readonly message: string;
}

/** Thrown by `compileIngestPolicy` when the options are inconsistent; lists every issue. */
export class InvalidIngestPolicyError extends IngestCoreError {
  readonly code = 'INGEST_POLICY_INVALID';
  constructor(readonly issues: readonly PolicyIssue[]) {
    super(`invalid ingest policy:\n${issues.map((i) => `  - ${i.option}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidIngestPolicyError';
  }
}

/** Thrown when a RawMessage's partition or offset is not what Kafka hands out. */
export class InvalidSourcePositionError extends IngestCoreError {
  readonly code = 'INGEST_SOURCE_POSITION_INVALID';
  constructor(
    readonly context: { readonly topic: string; readonly partition: number; readonly offset: string },
  ) {
    super(`invalid source position ${context.topic}/${context.partition}@${context.offset}`);
    this.name = 'InvalidSourcePositionError';
  }
}

/** Thrown when a RawMessage carries a kind outside RawKind (a caller bug, not bad input). */
export class InvalidRawKindError extends IngestCoreError {
  readonly code = 'INGEST_RAW_KIND_INVALID';
  constructor(readonly context: { readonly kind: string; readonly topic: string }) {
    super(`unknown raw kind ${JSON.stringify(context.kind)} for topic ${context.topic}`);
    this.name = 'InvalidRawKindError';
  }
}
