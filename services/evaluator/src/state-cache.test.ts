import { emptyState } from '@labelstream/engine';
import { StateCache } from './state-cache';

const entry = (version: number) => ({ version, state: emptyState(), dueAt: null });

describe('StateCache', () => {
  it('returns what was set, per partition', () => {
    const c = new StateCache(10);
    c.set(0, 'a', entry(1));
    c.set(1, 'a', entry(7));
    expect(c.get(0, 'a')?.version).toBe(1);
    expect(c.get(1, 'a')?.version).toBe(7);
    expect(c.get(2, 'a')).toBeUndefined();
    c.set(0, 'a', entry(2));
    expect(c.get(0, 'a')?.version).toBe(2);
    expect(c.customers).toBe(2);
  });

  it('stays within its bound, evicting the least recently used', () => {
    const c = new StateCache(3);
    c.set(0, 'a', entry(1));
    c.set(0, 'b', entry(1));
    c.set(0, 'c', entry(1));
    c.get(0, 'a'); // a is now the most recently used
    c.set(0, 'd', entry(1));
    expect(c.customers).toBe(3);
    expect(c.get(0, 'b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => c.get(0, k)?.version)).toEqual([1, 1, 1]);
  });

  it('a partition within its share makes the largest partition give way', () => {
    const c = new StateCache(4);
    for (const k of ['a', 'b', 'c', 'd']) c.set(0, k, entry(1));
    c.set(1, 'x', entry(1));
    expect(c.customers).toBe(4);
    expect(c.get(1, 'x')).toBeDefined();
    expect(c.get(0, 'a')).toBeUndefined();
  });

  it('drops a partition, and keeps only the retained ones', () => {
    const c = new StateCache(10);
    c.set(0, 'a', entry(1));
    c.set(1, 'b', entry(1));
    c.set(2, 'c', entry(1));
    c.drop(0);
    expect(c.get(0, 'a')).toBeUndefined();
    c.retain(new Set([2]));
    expect(c.get(1, 'b')).toBeUndefined();
    expect(c.get(2, 'c')).toBeDefined();
    expect(c.customers).toBe(1);
  });

  it('size 0 keeps nothing', () => {
    const c = new StateCache(0);
    c.set(0, 'a', entry(1));
    expect(c.get(0, 'a')).toBeUndefined();
    expect(c.customers).toBe(0);
  });
});
