import type { Admin, Kafka } from 'kafkajs';

/**
 * Which partitions of a topic hold input a consumer group has not committed yet — for a
 * member that needs to know, right after an assignment, whether it is behind (kafkajs
 * hands no batch for a partition with nothing to read, so the batches alone cannot say
 * "caught up" for a quiet partition). One admin connection, opened on first use.
 */
export interface BacklogProbe {
  /** partition → true when its high watermark is beyond the group's committed offset (or, with none, its low watermark). */
  behind(partitions: readonly number[]): Promise<Map<number, boolean>>;
  close(): Promise<void>;
}

export function createBacklogProbe(kafka: Kafka, groupId: string, topic: string): BacklogProbe {
  let admin: Admin | undefined;
  let connecting: Promise<Admin> | undefined;
  const connect = (): Promise<Admin> => {
    if (admin) return Promise.resolve(admin);
    connecting ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      admin = a;
      return a;
    })().finally(() => (connecting = undefined));
    return connecting;
  };
  return {
    async behind(partitions) {
      const out = new Map<number, boolean>();
      if (!partitions.length) return out;
      const a = await connect();
      const [ends, [committed]] = await Promise.all([a.fetchTopicOffsets(topic), a.fetchOffsets({ groupId, topics: [topic] })]);
      const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)] as const));
      for (const e of ends) {
        if (!partitions.includes(e.partition)) continue;
        const c = done.get(e.partition) ?? -1n;
        out.set(e.partition, BigInt(e.high) > (c >= 0n ? c : BigInt(e.low)));
      }
      return out;
    },
    async close() {
      const a = admin;
      admin = undefined;
      await a?.disconnect().catch(() => undefined);
    },
  };
}
