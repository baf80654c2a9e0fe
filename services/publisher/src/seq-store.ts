/** What this member knows of one partition it owns: the last decision seq already published. */
export interface PartitionSeq {
  readonly partition: number;
  lastSeq: number;
}

/** Reads the last published seq of each partition from the output (0 when nothing was published). */
export type LastSeqLoader = (partitions: number[]) => Promise<Map<number, number>>;

/**
 * `lastSeq` per owned partition, loaded lazily from the output topic's tail and forgotten
 * on every rebalance, so a partition that comes back after someone else owned it is
 * re-read rather than trusted from memory.
 *
 * States are objects handed to the batch in hand; `invalidate` drops a state only if it
 * is still the current one, so a batch from an old assignment cannot clobber a newer one.
 */
export class SeqStore {
  private readonly states = new Map<number, Promise<PartitionSeq>>();

  constructor(private readonly load: LastSeqLoader) {}

  /** Forgets every partition (call on each group join) and starts loading `prefetch` in one read. */
  reset(prefetch: number[] = []): void {
    this.states.clear();
    if (prefetch.length) this.loadMany(prefetch);
  }

  /** The state of `partition`, loading it if this assignment has not yet. */
  get(partition: number): Promise<PartitionSeq> {
    return this.states.get(partition) ?? this.loadMany([partition]).get(partition)!;
  }

  /**
   * Drops `state` after a failed or uncertain send: what reached the topic is known only
   * by reading its tail again.
   */
  async invalidate(state: PartitionSeq): Promise<void> {
    const current = this.states.get(state.partition);
    if (current && (await current.catch(() => undefined)) === state) this.states.delete(state.partition);
  }

  /** Partitions with a loaded or loading state. */
  known(): number[] {
    return [...this.states.keys()];
  }

  private loadMany(partitions: number[]): Map<number, Promise<PartitionSeq>> {
    const all = this.load(partitions);
    const out = new Map<number, Promise<PartitionSeq>>();
    for (const partition of partitions) {
      const p: Promise<PartitionSeq> = all.then((m) => ({ partition, lastSeq: m.get(partition) ?? 0 }));
      this.states.set(partition, p);
      // A failed load is forgotten so the next batch retries it (never cache an outage).
      p.catch(() => {
        if (this.states.get(partition) === p) this.states.delete(partition);
      });
      out.set(partition, p);
    }
    return out;
  }
}
