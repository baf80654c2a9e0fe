import { DEFAULT_REJOIN_BOUNDS, rejoinAllowed } from './resilient-runner';

describe('rejoinAllowed', () => {
  it('allows re-joins up to the bound within the window, then refuses', () => {
    const now = 1_000_000;
    const earlier = [now - 4000, now - 3000, now - 2000, now - 1000];
    expect(rejoinAllowed(earlier, now, { max: 5, windowMs: 60_000 })).toBe(true);
    expect(rejoinAllowed([...earlier, now - 500], now, { max: 5, windowMs: 60_000 })).toBe(false);
  });

  it('forgets re-joins older than the window', () => {
    const now = 1_000_000;
    const old = [now - 70_000, now - 65_000, now - 61_000];
    expect(rejoinAllowed([...old, now - 1000], now, { max: 2, windowMs: 60_000 })).toBe(true);
    expect(rejoinAllowed([...old, now - 1000, now - 500], now, { max: 2, windowMs: 60_000 })).toBe(false);
  });

  it('defaults to 5 re-joins in 10 minutes', () => {
    const now = 10 * 60_000 + 1;
    const four = [1, 2, 3, 4].map((i) => now - i * 1000);
    expect(DEFAULT_REJOIN_BOUNDS).toEqual({ max: 5, windowMs: 600_000 });
    expect(rejoinAllowed(four, now)).toBe(true);
    expect(rejoinAllowed([...four, now - 100], now)).toBe(false);
  });
});
