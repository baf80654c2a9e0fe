import { REJECT_REASONS, type RejectReason } from './reject-reasons';

/** Why a raw message was refused; it goes to the DLQ with these as headers. */
export interface NormaliseRejection {
  readonly ok: false;
  readonly reason: RejectReason;
  /** Human explanation naming fields by path only — never a field's value. */
  readonly message: string;
  /** JSON path of the offending field (`items[2].quantity`), when one field is at fault. */
  readonly path?: string;
}

/**
 * Builds a rejection; the message defaults to the reason's description. Adapters use
 * this for the reasons they detect themselves (UNKNOWN_SCHEMA, MALFORMED_AVRO).
 */
export function makeRejection(reason: RejectReason, message?: string, path?: string): NormaliseRejection {
  const text = message ?? REJECT_REASONS[reason];
  return path === undefined ? { ok: false, reason, message: text } : { ok: false, reason, message: text, path };
}

/**
 * Internal control flow: validators throw this and normaliseDecoded turns it into a
 * NormaliseRejection, which keeps each validator a straight line. Not an Error on purpose
 * (no stack capture on the bad-input path); anything else thrown is a bug and propagates.
 */
export class Rejection {
  constructor(
    readonly reason: RejectReason,
    readonly message: string,
    readonly path?: string,
  ) {}

  toResult(): NormaliseRejection {
    return makeRejection(this.reason, this.message, this.path);
  }
}

/** Throws a {@link Rejection}; the message is prefixed with the path so it reads alone in a DLQ header. */
export function reject(reason: RejectReason, path: string | undefined, detail: string): never {
  throw new Rejection(reason, path ? `${path}: ${detail}` : detail, path);
}
