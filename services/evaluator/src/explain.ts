import { decodeState, explain, warmingMap, type Explanation, type WarmingFeature } from '@labelstream/engine';
import type { CompiledRules } from '@labelstream/rules';
import { PartitionKeys, readHistory, type RedisClient } from '@labelstream/redis-state';
import { parseHistoryEntry, type HistoryItem } from './decisions';

/**
 * Why does customer X have label Y? Finds the customer's state in whichever partition holds
 * it and returns the engine's explanation (labels, feature values, which condition holds)
 * with the customer's recent decisions and their causes. `labelstream explain` reads this
 * answer with the engine's `Explanation` type (packages/cli/src/commands/explain-format.ts).
 */
export async function explainCustomer(
  redis: RedisClient,
  keyPrefix: string,
  partitions: number,
  /** The rules in force for a partition (after a deploy, not necessarily the rules file) and the features it is warming up. */
  rulesOf: (partition: number) => Promise<{ rules: CompiledRules; warming: readonly WarmingFeature[] }>,
  customerId: string,
  at: number,
): Promise<
  | { found: false }
  | { found: true; partition: number; version: number; explanation: Explanation; recentDecisions: Array<HistoryItem | { raw: string }>; warmingUp: Array<{ feature: string; until: number | null }> }
> {
  // One GET per partition, not one pipeline: in a Redis Cluster each partition's keys live in
  // their own slot, and a pipeline may not span slots (auto-pipelining batches them per node).
  const results = await Promise.all(Array.from({ length: partitions }, (_, p) => redis.get(new PartitionKeys(keyPrefix, p).customer(customerId))));
  const p = results.findIndex((v) => typeof v === 'string');
  if (p < 0) return { found: false };
  const raw = results[p]!;
  const bar = raw.indexOf('|');
  const state = decodeState(raw.slice(bar + 1));
  const history = await readHistory(redis, new PartitionKeys(keyPrefix, p), customerId);
  const { rules, warming } = await rulesOf(p);
  const explanation = explain(state, rules, at, warmingMap(warming));
  return {
    found: true,
    partition: p,
    version: Number(raw.slice(0, bar)),
    explanation,
    recentDecisions: history.map(parseHistoryEntry),
    // Features started empty by a rules change whose window is not covered yet: labels reading them decide on partial history.
    warmingUp: warming.filter((w) => w.until === null || w.until > explanation.at).map((w) => ({ feature: w.feature, until: w.until })),
  };
}
