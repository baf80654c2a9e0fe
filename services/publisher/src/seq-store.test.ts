import { SeqStore } from './seq-store';

describe('SeqStore', () => {
  it('loads lazily, once per assignment, and prefetches many partitions in one read', async () => {
    const calls: number[][] = [];
    const store = new SeqStore(async (ps) => {
      calls.push(ps);
      return new Map(ps.map((p) => [p, p * 10]));
    });
    expect((await store.get(2)).lastSeq).toBe(20);
    expect((await store.get(2)).lastSeq).toBe(20);
    expect(calls).toEqual([[2]]);
    store.reset([0, 1, 2]);
    expect((await store.get(1)).lastSeq).toBe(10);
    expect((await store.get(2)).lastSeq).toBe(20);
    expect(calls).toEqual([[2], [0, 1, 2]]);
  });

  it('starts from 0 for an empty output partition', async () => {
    const store = new SeqStore(async () => new Map());
    expect((await store.get(4)).lastSeq).toBe(0);
  });

  it('forgets a state on invalidate, but not a newer one, and never caches a failed load', async () => {
    let n = 0;
    let fail = true;
    const store = new SeqStore(async (ps) => {
      n++;
      if (fail) throw new Error('broker down');
      return new Map(ps.map((p) => [p, n]));
    });
    await expect(store.get(0)).rejects.toThrow('broker down');
    fail = false;
    const a = await store.get(0);
    expect(a.lastSeq).toBe(2);
    a.lastSeq = 99; // sent more, in memory
    await store.invalidate(a);
    const b = await store.get(0);
    expect(b.lastSeq).toBe(3);
    store.reset();
    const c = await store.get(0);
    await store.invalidate(b); // stale: c stays
    expect(await store.get(0)).toBe(c);
  });
});
