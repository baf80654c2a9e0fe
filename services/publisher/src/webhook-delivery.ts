import { WEBHOOK_HEADERS, attemptOutcome, classifyStatus, retryAfterMs, signatureHeaders, webhookBackoffMs } from '@labelstream/publishing';

/** One payload to one destination. */
export interface DeliveryRequest {
  url: string;
  secret: string;
  /** The JSON body, signed byte for byte. */
  body: string;
  eventId: string;
  timeoutMs: number;
}

export interface DeliveryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** What one attempt produced. */
export interface AttemptReport {
  attempt: number;
  status?: number;
  error?: 'timeout' | 'network' | 'aborted';
  message?: string;
  latencyMs: number;
  /** Metric label: status class or error kind. */
  outcome: string;
}

export interface DeliveryEnv {
  fetch: typeof fetch;
  now: () => number;
  random: () => number;
  /** Waits between attempts; resolves early when `signal` aborts. Should keep the consumer's membership alive. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Aborts on shutdown or revocation: the delivery stops and is redone by the next owner. */
  signal: AbortSignal;
  onAttempt?: (report: AttemptReport) => void;
}

export type DeliveryResult =
  | { kind: 'delivered'; attempts: number }
  | { kind: 'rejected' | 'exhausted'; attempts: number; last: AttemptReport }
  | { kind: 'aborted'; attempts: number };

/** Sends one signed POST; never throws (errors become the report). */
export async function attemptOnce(req: DeliveryRequest, attempt: number, env: Pick<DeliveryEnv, 'fetch' | 'now' | 'signal'>): Promise<AttemptReport & { retryAfter?: string | null }> {
  const started = performance.now();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'labelstream-webhooks/1',
    [WEBHOOK_HEADERS.eventId]: req.eventId,
    [WEBHOOK_HEADERS.attempt]: String(attempt),
    // Signed per attempt, so a retry hours later still passes the receiver's tolerance.
    ...signatureHeaders(req.secret, req.body, env.now()),
  };
  try {
    const res = await env.fetch(req.url, {
      method: 'POST',
      headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(req.timeoutMs), env.signal]),
    });
    await res.body?.cancel().catch(() => undefined);
    return { attempt, status: res.status, latencyMs: performance.now() - started, outcome: attemptOutcome(res.status), retryAfter: res.headers.get('retry-after') };
  } catch (err) {
    const error = env.signal.aborted ? 'aborted' : (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const message = cause?.code ?? cause?.message ?? (err as Error).message;
    return { attempt, error, message, latencyMs: performance.now() - started, outcome: attemptOutcome(undefined, error) };
  }
}

/**
 * Delivers one payload: attempts until a 2xx (delivered), a non-retriable answer
 * (rejected), or `maxAttempts` retriable failures (exhausted), waiting with exponential
 * backoff and full jitter between attempts (longer if the receiver sent Retry-After,
 * within `maxBackoffMs`). Stops with `aborted` as soon as `env.signal` aborts.
 */
export async function deliver(req: DeliveryRequest, policy: DeliveryPolicy, env: DeliveryEnv): Promise<DeliveryResult> {
  for (let attempt = 1; ; attempt++) {
    if (env.signal.aborted) return { kind: 'aborted', attempts: attempt - 1 };
    const { retryAfter, ...report } = await attemptOnce(req, attempt, env);
    if (report.error === 'aborted') return { kind: 'aborted', attempts: attempt };
    env.onAttempt?.(report);
    const verdict = classifyStatus(report.status);
    if (verdict === 'delivered') return { kind: 'delivered', attempts: attempt };
    if (verdict === 'reject') return { kind: 'rejected', attempts: attempt, last: report };
    if (attempt >= policy.maxAttempts) return { kind: 'exhausted', attempts: attempt, last: report };
    const backoff = webhookBackoffMs(attempt - 1, policy.initialBackoffMs, policy.maxBackoffMs, env.random);
    const asked = retryAfterMs(retryAfter, env.now());
    await env.sleep(Math.min(policy.maxBackoffMs, Math.max(backoff, asked ?? 0)), env.signal);
  }
}
