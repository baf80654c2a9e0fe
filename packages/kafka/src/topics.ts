import type { Admin, ITopicConfig } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  /** Broker topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet; existing ones are left as they are (their
 * partition count is reported so callers can check co-partitioning).
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<Record<string, number>> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = specs
    .filter((s) => !existing.has(s.topic))
    .map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions,
      replicationFactor: s.replicationFactor,
      configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
    }));
  if (missing.length) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (err) {
      // Another service may have created it between list and create.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }
  const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  return Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
}
