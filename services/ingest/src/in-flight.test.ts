import { InFlight } from './in-flight';

describe('InFlight', () => {
  it('waits for what is tracked when settle is called, successes and failures alike', async () => {
    const f = new InFlight();
    let ok: () => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    const a = f.track(new Promise<void>((r) => (ok = r)));
    const b = f.track(new Promise<void>((_, r) => (fail = r)));
    b.catch(() => undefined);
    expect(f.size).toBe(2);
    let settled: number | undefined;
    const s = f.settle(5000).then((n) => (settled = n));
    ok();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(settled).toBeUndefined();
    fail(new Error('x'));
    await s;
    expect(settled).toBe(2);
    expect(f.size).toBe(0);
  });

  it('returns at once when idle, and after the bound when something hangs', async () => {
    const f = new InFlight();
    await expect(f.settle(1000)).resolves.toBe(0);
    void f.track(new Promise(() => undefined));
    await expect(f.settle(10)).resolves.toBe(1);
  });
});
