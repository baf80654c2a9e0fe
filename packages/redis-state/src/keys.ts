/**
 * Redis key layout. Every key of one Kafka partition carries the hash tag `{p<n>}`, so a
 * partition's state lives in one Redis Cluster slot and one Lua script may touch a
 * customer's state, the partition's outbox, sequence, owner epoch and timers together.
 *
 *   <prefix>:{p<n>}:epoch        owner epoch (fencing token), INCR'd by each new owner
 *   <prefix>:{p<n>}:seq          last decision sequence number of the partition
 *   <prefix>:{p<n>}:outbox       stream of committed decisions not yet acknowledged by Kafka (id <seq>-1)
 *   <prefix>:{p<n>}:timers       sorted set: customerId scored by its next due time (epoch ms)
 *   <prefix>:{p<n>}:history      hash: customerId → the customer's last decisions, newest first,
 *                                one per line, capped (one hash per partition rather than a list
 *                                per customer: a key costs ~200 B of overhead, a field ~60 B)
 *   <prefix>:{p<n>}:pop          hash: the census of the partition's committed states — label → customers
 *                                holding it, '~none' → customers holding none, '~epoch' → the owner
 *                                epoch that keeps it (moved by every commit, in the same script)
 *   <prefix>:{p<n>}:rules        hash: the rules version in force for the partition and its
 *                                re-evaluation sweep (seq, version, switchedAt, cursor, swept;
 *                                see rules-channel.ts)
 *   <prefix>:{p<n>}:applied      the input offset the committed states have applied up to (exclusive),
 *                                written by the commit of each batch: where a rules switch's backfill
 *                                stops reading history
 *   <prefix>:{p<n>}:c:<customer> "<version>|<engine state>"
 *   <prefix>:{p<n>}:d:<customer> sorted set: the customer's dedupe event ids scored by occurredAt,
 *                                those of the lateness horizon only (state layout 3 keeps them
 *                                apart: a commit adds the new ones and drops the expired ones
 *                                instead of rewriting them all; absent when empty)
 */
export class PartitionKeys {
  readonly tag: string;
  readonly epoch: string;
  readonly seq: string;
  readonly outbox: string;
  readonly timers: string;
  readonly history: string;
  readonly population: string;
  readonly rules: string;
  readonly applied: string;

  constructor(readonly prefix: string, readonly partition: number) {
    this.tag = `${prefix}:{p${partition}}`;
    this.epoch = `${this.tag}:epoch`;
    this.seq = `${this.tag}:seq`;
    this.outbox = `${this.tag}:outbox`;
    this.timers = `${this.tag}:timers`;
    this.history = `${this.tag}:history`;
    this.population = `${this.tag}:pop`;
    this.rules = `${this.tag}:rules`;
    this.applied = `${this.tag}:applied`;
  }

  customer(customerId: string): string {
    return `${this.tag}:c:${customerId}`;
  }

  /** SCAN pattern of the partition's customer state keys (glob characters of the prefix escaped). */
  get customerPattern(): string {
    return `${this.tag.replace(/[*?[\]\\]/g, '\\$&')}:c:*`;
  }

  ids(customerId: string): string {
    return `${this.tag}:d:${customerId}`;
  }
}
