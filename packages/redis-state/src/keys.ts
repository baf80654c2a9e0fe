/**
 * Redis key layout. Every key of one Kafka partition carries the hash tag `{p<n>}`, so a
 * partition's state lives in one Redis Cluster slot and one Lua script may touch a
 * customer's state, the partition's outbox, sequence, owner epoch and timers together.
 *
 *   <prefix>:{p<n>}:epoch        owner epoch (fencing token), INCR'd by each new owner
 *   <prefix>:{p<n>}:seq          last decision sequence number of the partition
 *   <prefix>:{p<n>}:outbox       stream of committed decisions not yet acknowledged by Kafka (id <seq>-1)
 *   <prefix>:{p<n>}:timers       sorted set: customerId scored by its next due time (epoch ms)
 *   <prefix>:{p<n>}:c:<customer> "<version>|<engine state>"
 *   <prefix>:{p<n>}:h:<customer> list of the customer's last decisions (newest first, capped)
 */
export class PartitionKeys {
  readonly tag: string;
  readonly epoch: string;
  readonly seq: string;
  readonly outbox: string;
  readonly timers: string;

  constructor(readonly prefix: string, readonly partition: number) {
    this.tag = `${prefix}:{p${partition}}`;
    this.epoch = `${this.tag}:epoch`;
    this.seq = `${this.tag}:seq`;
    this.outbox = `${this.tag}:outbox`;
    this.timers = `${this.tag}:timers`;
  }

  customer(customerId: string): string {
    return `${this.tag}:c:${customerId}`;
  }

  history(customerId: string): string {
    return `${this.tag}:h:${customerId}`;
  }
}
