import type { CustomerState } from '@labelstream/engine';

/** A customer's state as last committed by this evaluator (or loaded from Redis). */
export interface CachedState {
  /** The version stored with it in Redis; the next commit expects exactly this. */
  readonly version: number;
  /**
   * Decoded; null for a customer with no stored state. The evaluator's replay changes it in
   * place: after a committed batch it is the committed state; after a failure the whole
   * partition's entries are dropped.
   */
  readonly state: CustomerState | null;
  /** The due time stored with it (its timer), null for none. */
  readonly dueAt: number | null;
  /**
   * Its dedupe ids came inline in a state of layout 1 or 2 and are not in the customer's
   * id set in Redis yet: the next commit writes them all (then the stored state is layout 3).
   */
  readonly idsInline?: boolean;
}

/**
 * Decoded customer states of the partitions one evaluator owns, so that a customer seen
 * again needs neither a Redis read nor a decode. Redis stays the truth: every commit still
 * names the version it expects and goes through the fenced script, so a stale entry can
 * only cause a refused commit, never a wrong one; the evaluator drops a partition's entries
 * on any failed commit, on revoke and on fencing.
 *
 * Bounded by a number of customers shared by all partitions (least recently used first);
 * a partition over its share evicts its own oldest entries.
 */
export class StateCache {
  private readonly partitions = new Map<number, Map<string, CachedState>>();
  private size = 0;

  constructor(private readonly maxCustomers: number) {}

  get enabled(): boolean {
    return this.maxCustomers > 0;
  }

  get(partition: number, customerId: string): CachedState | undefined {
    const m = this.partitions.get(partition);
    const hit = m?.get(customerId);
    if (hit && m) {
      // Most recently used last.
      m.delete(customerId);
      m.set(customerId, hit);
    }
    return hit;
  }

  set(partition: number, customerId: string, entry: CachedState): void {
    if (this.maxCustomers <= 0) return;
    let m = this.partitions.get(partition);
    if (!m) this.partitions.set(partition, (m = new Map()));
    if (m.delete(customerId)) this.size--;
    m.set(customerId, entry);
    this.size++;
    if (this.size > this.maxCustomers) this.evict(m);
  }

  /** Forgets a partition's states (revoked, fenced, or a commit whose outcome is unknown). */
  drop(partition: number): void {
    const m = this.partitions.get(partition);
    if (!m) return;
    this.size -= m.size;
    this.partitions.delete(partition);
  }

  /** Partitions other than `keep` are dropped. */
  retain(keep: ReadonlySet<number>): void {
    for (const p of [...this.partitions.keys()]) if (!keep.has(p)) this.drop(p);
  }

  get customers(): number {
    return this.size;
  }

  private evict(m: Map<string, CachedState>): void {
    const share = Math.max(1, Math.floor(this.maxCustomers / Math.max(1, this.partitions.size)));
    // The inserting partition gives way first; if it is within its share, the largest does.
    let victim = m;
    if (m.size <= share) for (const other of this.partitions.values()) if (other.size > victim.size) victim = other;
    const it = victim.keys();
    while (this.size > this.maxCustomers) {
      const k = it.next();
      if (k.done) break;
      victim.delete(k.value);
      this.size--;
    }
  }
}
