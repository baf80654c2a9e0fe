/** Error codes the oracle throws. None is retriable: the input itself is wrong. */
export type OracleErrorCode = 'EVENT_PAYLOAD_MISSING' | 'TOO_MANY_EVALUATIONS';

/** Thrown for an input the oracle cannot judge; `context` names the event or customer. */
export class OracleError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: OracleErrorCode,
    message: string,
    readonly context: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
    this.name = 'OracleError';
  }
}
