import type { Kafka, Producer } from 'kafkajs';
import { createProducer, type ProducerOptions } from '@labelstream/kafka';
import type { Logger } from '@labelstream/observability';

/**
 * One idempotent producer (and so one connection) per owned partition.
 *
 * Why not one shared producer: with one request in flight per connection, a partition's
 * produce request can wait in kafkajs' in-memory queue behind other partitions' requests
 * after the ownership check passed. A member paused there past its session timeout sends
 * the queued request when it wakes — after the new owner has published — and a stale
 * record lands behind newer ones (observed in the SIGSTOP test). With its own connection,
 * a partition's request goes to the socket as soon as it is made, and the broker has it
 * before anyone can take the partition over. Revoking a partition disconnects its
 * producer, which also fails any send a stale batch still attempts.
 */
export class PartitionProducers {
  private readonly producers = new Map<number, Promise<Producer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly producerOptions: ProducerOptions = {},
  ) {}

  /** The producer of `partition`, connected on first use. */
  get(partition: number): Promise<Producer> {
    let p = this.producers.get(partition);
    if (!p) {
      const producer = createProducer(this.kafka, this.producerOptions);
      p = producer.connect().then(() => producer);
      this.producers.set(partition, p);
      p.catch(() => {
        if (this.producers.get(partition) === p) this.producers.delete(partition);
      });
    }
    return p;
  }

  /** Disconnects the producers of partitions not in `keep` (after a rebalance). */
  retain(keep: readonly number[]): void {
    for (const partition of [...this.producers.keys()]) if (!keep.includes(partition)) void this.close(partition);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((p) => this.close(p)));
  }

  private async close(partition: number): Promise<void> {
    const p = this.producers.get(partition);
    this.producers.delete(partition);
    const producer = await p?.catch(() => undefined);
    await producer?.disconnect().catch((err: unknown) => this.logger.warn({ err, partition }, 'producer disconnect failed'));
  }
}
