import { ConfigResourceTypes, type Admin, type ITopicConfig } from 'kafkajs';
import { sleep } from './backoff';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  /** Broker topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet; existing ones are left as they are (their
 * partition count is returned so callers can check co-partitioning). Safe when several
 * services start at once: a topic another one created meanwhile counts as created, and
 * metadata that has not propagated yet is asked for again (bounded).
 */
/**
 * Each topic's effective `max.message.bytes` (its own setting, else the broker's
 * `message.max.bytes`): the largest record batch it accepts.
 */
export async function topicMaxMessageBytes(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
  });
  const out: Record<string, number> = {};
  for (const r of described.resources) {
    const entry = r.configEntries.find((c) => c.configName === 'max.message.bytes');
    if (entry && /^\d+$/.test(entry.configValue)) out[r.resourceName] = Number(entry.configValue);
  }
  return out;
}

export async function ensureTopics(admin: Admin, specs: TopicSpec[], attempts = 10): Promise<Record<string, number>> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
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
        // TOPIC_ALREADY_EXISTS (a concurrent creator) comes back as an aggregate error; the
        // metadata check below is what decides.
        await admin.createTopics({ topics: missing, waitForLeaders: true }).catch((err: unknown) => {
          lastError = err;
        });
      }
      const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
      const counts = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
      if (specs.every((s) => (counts[s.topic] ?? 0) > 0)) return counts;
    } catch (err) {
      lastError = err;
    }
    await sleep(Math.min(2000, 200 * (attempt + 1)));
  }
  throw new Error(`topics ${specs.map((s) => s.topic).join(', ')} could not be created or described: ${(lastError as Error | undefined)?.message ?? 'unknown'}`);
}
