import fc from 'fast-check';
import { attemptOutcome, classifyStatus, matchesLabelFilter, retryAfterMs, webhookBackoffMs } from './webhook-policy';

describe('webhook policy', () => {
  it('delivers on 2xx, retries 408/429/5xx and transport errors, rejects other answers', () => {
    expect([200, 201, 204, 299].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 502, 503, 599, undefined].map(classifyStatus)).toEqual(Array(7).fill('retry'));
    expect([400, 401, 403, 404, 410, 422, 301, 302, 100].map(classifyStatus)).toEqual(Array(9).fill('reject'));
  });

  it('labels attempt outcomes by status class or error kind', () => {
    expect(attemptOutcome(204)).toBe('2xx');
    expect(attemptOutcome(503)).toBe('5xx');
    expect(attemptOutcome(undefined, 'timeout')).toBe('timeout');
    expect(attemptOutcome(undefined)).toBe('network');
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(webhookBackoffMs(0, 500, 60_000, () => 0.999)).toBe(499);
    expect(webhookBackoffMs(3, 500, 60_000, () => 0.5)).toBe(2000);
    expect(webhookBackoffMs(20, 500, 60_000, () => 0.5)).toBe(30_000);
    expect(webhookBackoffMs(2, 500, 60_000, () => 0)).toBe(0);
    fc.assert(
      fc.property(fc.nat(100), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (retry, initial, extra, r) => {
        const max = initial + extra;
        const d = webhookBackoffMs(retry, initial, max, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(max, initial * 2 ** retry));
      }),
    );
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('filters labels by exact name or prefix*', () => {
    expect(matchesLabelFilter(undefined, 'x')).toBe(true);
    expect(matchesLabelFilter([], 'x')).toBe(true);
    expect(matchesLabelFilter(['vip', 'lifecycle-*'], 'vip')).toBe(true);
    expect(matchesLabelFilter(['vip', 'lifecycle-*'], 'lifecycle-lead')).toBe(true);
    expect(matchesLabelFilter(['vip', 'lifecycle-*'], 'vip-gold')).toBe(false);
  });
});
