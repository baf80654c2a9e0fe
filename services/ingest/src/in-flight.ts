/**
 * The batches in progress, so a graceful stop can let them finish before the consumer
 * stops (their offsets are committed only while it still runs).
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Tracks `p` until it settles and returns it unchanged. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => void this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Resolves once everything tracked *now* has settled (later arrivals are not waited
   * for), or after `timeoutMs`. Returns how many it waited for.
   */
  async settle(timeoutMs: number): Promise<number> {
    const now = [...this.pending];
    if (now.length === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(now),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, timeoutMs));
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    return now.length;
  }
}
