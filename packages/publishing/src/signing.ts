import { createHmac, timingSafeEqual } from 'node:crypto';

/** HTTP header names of a Labelstream webhook request. */
export const WEBHOOK_HEADERS = Object.freeze({
  /** Unix time in seconds at which the request was signed. */
  timestamp: 'x-labelstream-timestamp',
  /** `v1=<hex hmac-sha256(secret, "<timestamp>.<body>")>`; several comma-separated during secret rotation. */
  signature: 'x-labelstream-signature',
  /** The label event's stable `eventId`: receivers dedupe on it (delivery is at-least-once). */
  eventId: 'x-labelstream-event-id',
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: 'x-labelstream-attempt',
} as const);

/** Default accepted clock difference between sender and receiver, in seconds. */
export const DEFAULT_TOLERANCE_SEC = 300;

/**
 * The signature of one webhook body: `v1=` + hex HMAC-SHA256 over `${timestampSec}.${body}`.
 * Signing the timestamp with the body lets a receiver reject replays of an old request.
 */
export function signPayload(secret: string, timestampSec: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestampSec}.${body}`, 'utf8').digest('hex');
}

/** The signing headers of a request sent at `nowMs`. */
export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { [WEBHOOK_HEADERS.timestamp]: String(ts), [WEBHOOK_HEADERS.signature]: signPayload(secret, ts, body) };
}

export type VerifyFailure = 'MISSING_HEADER' | 'BAD_TIMESTAMP' | 'TIMESTAMP_OUT_OF_TOLERANCE' | 'SIGNATURE_MISMATCH';

export interface VerifyOptions {
  /** The shared secret, or several while rotating (any may match). */
  secret: string | readonly string[];
  /** The raw request body exactly as received (before any JSON parsing). */
  body: string;
  /** Value of `x-labelstream-timestamp`. */
  timestamp: string | undefined;
  /** Value of `x-labelstream-signature`. */
  signature: string | undefined;
  /** Receiver's clock (default Date.now()). */
  nowMs?: number;
  /** Accepted |now − timestamp| in seconds (default 300). */
  toleranceSec?: number;
}

/**
 * Verifies a webhook request as a receiver should: the timestamp is within tolerance and
 * some `v1=` signature matches, compared in constant time.
 *
 * @example
 * const r = verifySignature({ secret, body: rawBody, timestamp: req.headers['x-labelstream-timestamp'], signature: req.headers['x-labelstream-signature'] });
 * if (!r.ok) return res.status(401).end(r.reason);
 */
export function verifySignature(opts: VerifyOptions): { ok: true } | { ok: false; reason: VerifyFailure } {
  if (!opts.timestamp || !opts.signature) return { ok: false, reason: 'MISSING_HEADER' };
  if (!/^\d{1,12}$/.test(opts.timestamp)) return { ok: false, reason: 'BAD_TIMESTAMP' };
  const ts = Number(opts.timestamp);
  const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' };
  const presented = opts.signature
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s, 'utf8'));
  const secrets = typeof opts.secret === 'string' ? [opts.secret] : opts.secret;
  for (const secret of secrets) {
    const expected = Buffer.from(signPayload(secret, ts, opts.body), 'utf8');
    if (presented.some((p) => p.length === expected.length && timingSafeEqual(p, expected))) return { ok: true };
  }
  return { ok: false, reason: 'SIGNATURE_MISMATCH' };
}
