/** Error codes the engine throws. None is retriable: the input itself is wrong. */
export type EngineErrorCode = 'EVENT_PAYLOAD_MISSING' | 'STATE_CORRUPT' | 'STATE_VERSION_UNSUPPORTED';

/**
 * Thrown for inputs the engine cannot work with: an event whose payload does not match its
 * type, or a stored state it cannot decode. `context` carries the identifiers to log.
 */
export class EngineError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly context: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
