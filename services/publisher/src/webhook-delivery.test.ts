import { verifySignature, WEBHOOK_HEADERS } from '@labelstream/publishing';
import { deliver, type DeliveryEnv, type DeliveryRequest } from './webhook-delivery';

const req: DeliveryRequest = { url: 'http://receiver.test/hook', secret: 'shh', body: '{"eventId":"e-1"}', eventId: 'e-1', timeoutMs: 1000 };
const policy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 1000 };

function fakeFetch(answers: Array<number | Error | { status: number; retryAfter: string }>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const impl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (a instanceof Error) throw a;
    const status = typeof a === 'number' ? a : a.status;
    const headers: Record<string, string> = typeof a === 'number' ? {} : { 'retry-after': a.retryAfter };
    return new Response(null, { status, headers });
  }) as unknown as typeof fetch;
  return { impl, calls };
}

function env(f: typeof fetch, overrides: Partial<DeliveryEnv> = {}) {
  const sleeps: number[] = [];
  const attempts: string[] = [];
  const e: DeliveryEnv = {
    fetch: f,
    now: () => 1_700_000_000_000,
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    signal: new AbortController().signal,
    onAttempt: (r) => void attempts.push(r.outcome),
    ...overrides,
  };
  return { e, sleeps, attempts };
}

describe('deliver', () => {
  it('sends a signed JSON POST and stops at the first 2xx', async () => {
    const f = fakeFetch([204]);
    const { e, attempts } = env(f.impl);
    expect(await deliver(req, policy, e)).toEqual({ kind: 'delivered', attempts: 1 });
    const init = f.calls[0]!.init;
    const h = init.headers as Record<string, string>;
    expect(init.method).toBe('POST');
    expect(h['content-type']).toBe('application/json');
    expect(h[WEBHOOK_HEADERS.eventId]).toBe('e-1');
    expect(h[WEBHOOK_HEADERS.attempt]).toBe('1');
    expect(verifySignature({ secret: 'shh', body: init.body as string, timestamp: h[WEBHOOK_HEADERS.timestamp], signature: h[WEBHOOK_HEADERS.signature], nowMs: 1_700_000_000_000 })).toEqual({ ok: true });
    expect(attempts).toEqual(['2xx']);
  });

  it('retries 5xx, timeouts and connection errors with growing backoff, then gives up', async () => {
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    const f = fakeFetch([500, timeout, new TypeError('fetch failed'), 503]);
    const { e, sleeps, attempts } = env(f.impl);
    const r = await deliver(req, policy, e);
    expect(r).toMatchObject({ kind: 'exhausted', attempts: 4, last: { status: 503, outcome: '5xx' } });
    expect(f.calls).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 200]); // random 0.5 × 100·2^n
    expect(attempts).toEqual(['5xx', 'timeout', 'network', '5xx']);
  });

  it('recovers when the receiver does', async () => {
    const f = fakeFetch([502, 429, 200]);
    const { e } = env(f.impl);
    expect(await deliver(req, policy, e)).toEqual({ kind: 'delivered', attempts: 3 });
  });

  it('does not retry a rejecting 4xx', async () => {
    const f = fakeFetch([401]);
    const { e, sleeps } = env(f.impl);
    expect(await deliver(req, policy, e)).toMatchObject({ kind: 'rejected', attempts: 1, last: { status: 401 } });
    expect(sleeps).toEqual([]);
  });

  it('honours Retry-After within maxBackoffMs', async () => {
    const f = fakeFetch([{ status: 429, retryAfter: '0' }, { status: 503, retryAfter: '30' }, 200]);
    const { e, sleeps } = env(f.impl);
    await deliver(req, policy, e);
    expect(sleeps).toEqual([50, 1000]);
  });

  it('stops at once when aborted', async () => {
    const ac = new AbortController();
    const f = fakeFetch([500]);
    const { e } = env(f.impl, { signal: ac.signal, sleep: async () => void ac.abort() });
    expect(await deliver(req, policy, e)).toEqual({ kind: 'aborted', attempts: 1 });
    expect(f.calls).toHaveLength(1);
  });
});
