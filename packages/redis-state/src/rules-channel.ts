import type { RedisClient } from './client';
import { PUBLISH_RULES, SWITCH_RULES, SWEEP_PROGRESS } from './scripts';
import { FencedError, RulesConflictError } from './errors';
import { PartitionKeys } from './keys';

/**
 * The rules channel: the published rules versions in Redis, which every evaluator polls.
 *
 * Why Redis and not a compacted Kafka topic: the switch point of a partition must be fenced
 * with the partition's own state, and that state (customer states, outbox, owner epoch,
 * timers) is in Redis. A partition's version in force is one key next to its epoch
 * (`{p<n>}:rules`), written by a script that checks the owner epoch, so exactly one owner
 * switches it, between two of its commits, and a new owner reads it when it takes over.
 * A deploy is one compare-and-set script on the channel's sequence number: a racing deploy
 * fails whole (never half-applied). A compacted topic would need a consumer per instance
 * and a second, unfenced source of truth for "which version decides partition 7".
 *
 *   <prefix>:{rules}:current    hash: seq, version, hash, publishedAt, note
 *   <prefix>:{rules}:text:<seq> the rules file text of each published sequence (kept: rollback reads them)
 *   <prefix>:{rules}:log        list of "seq|version|hash|publishedAt|note", newest first
 *   <prefix>:{p<n>}:rules       hash: seq, version, switchedAt, cursor ('' = swept), swept, total, point
 */
export interface PublishedRules {
  /** Grows by one per deploy or rollback; 0 = the evaluators' rules file (nothing published). */
  seq: number;
  version: string;
  hash: string;
  publishedAt: number;
  note: string;
}

/** A partition's version in force and the progress of its re-evaluation sweep. */
export interface PartitionRules {
  seq: number;
  version: string;
  switchedAt: number | null;
  /** The sweep's SCAN cursor; null when the sweep is done (or there never was one). */
  cursor: string | null;
  /** Customers re-evaluated so far by this switch's sweep. */
  swept: number;
  /** Features that started empty at a switch (as the evaluator recorded them: feature, storageKey, until). */
  warming: Array<{ feature: string; storageKey: string; until: number | null }>;
  /** Where the partition stood at the switch (null: not recorded, e.g. a switch by an older evaluator). */
  point: SwitchPoint | null;
}

/**
 * A partition's switch point, as its owner recorded it with the switch: every input record
 * before `nextOffset` was applied under the old rules, and every timer due at or before
 * `timersUntil` fired under them; everything after runs under the new rules. Null fields:
 * not known to the owner (it switched before applying a batch / firing timers).
 */
export interface SwitchPoint {
  nextOffset: string | null;
  timersUntil: number | null;
}

export class RulesChannel {
  private readonly currentKey: string;
  private readonly logKey: string;

  constructor(private readonly redis: RedisClient, private readonly prefix: string) {
    this.currentKey = `${prefix}:{rules}:current`;
    this.logKey = `${prefix}:{rules}:log`;
    if (typeof (redis as unknown as { lsPublishRules?: unknown }).lsPublishRules !== 'function') {
      redis.defineCommand('lsPublishRules', { numberOfKeys: 2, lua: PUBLISH_RULES });
    }
  }

  private textKey(seq: number): string {
    return `${this.prefix}:{rules}:text:${seq}`;
  }

  /** The newest published rules, or null when nothing was ever published. */
  async current(): Promise<PublishedRules | null> {
    const h = await this.redis.hgetall(this.currentKey);
    return h.seq ? toPublished(h) : null;
  }

  /** The text published under `seq`. */
  async text(seq: number): Promise<string | null> {
    return this.redis.get(this.textKey(seq));
  }

  /** Every publication, newest first. */
  async log(limit = 50): Promise<PublishedRules[]> {
    const rows = await this.redis.lrange(this.logKey, 0, limit - 1);
    return rows.map((row) => {
      const [seq, version, hash, publishedAt, ...note] = row.split('|');
      return { seq: Number(seq), version: version ?? '', hash: hash ?? '', publishedAt: Number(publishedAt), note: note.join('|') };
    });
  }

  /**
   * Publishes `text` as sequence `expectedSeq + 1`, atomically, only if the channel is still
   * at `expectedSeq` (0 = nothing published yet).
   * @throws RulesConflictError when another deploy got there first (nothing written).
   */
  async publish(text: string, meta: { version: string; hash: string; note?: string }, expectedSeq: number, now: number): Promise<PublishedRules> {
    const note = (meta.note ?? '').replace(/[|\n]/g, ' ');
    const res = (await (this.redis as unknown as { lsPublishRules(...a: Array<string | number>): Promise<[number, number]> }).lsPublishRules(
      this.currentKey,
      this.logKey,
      this.prefix,
      expectedSeq,
      text,
      meta.version,
      meta.hash,
      now,
      note,
    ));
    if (Number(res[0]) !== 1) throw new RulesConflictError(expectedSeq, Number(res[1]));
    return { seq: Number(res[1]), version: meta.version, hash: meta.hash, publishedAt: now, note };
  }

  /** A partition's version in force (seq 0 when it never switched: the rules file). */
  async partition(partition: number): Promise<PartitionRules> {
    return readPartitionRules(this.redis, new PartitionKeys(this.prefix, partition));
  }
}

function toPublished(h: Record<string, string>): PublishedRules {
  return { seq: Number(h.seq), version: h.version ?? '', hash: h.hash ?? '', publishedAt: Number(h.publishedAt ?? 0), note: h.note ?? '' };
}

export async function readPartitionRules(redis: RedisClient, keys: PartitionKeys): Promise<PartitionRules> {
  const h = await redis.hgetall(keys.rules);
  return {
    seq: Number(h.seq ?? 0),
    version: h.version ?? '',
    switchedAt: h.switchedAt ? Number(h.switchedAt) : null,
    cursor: h.cursor ? h.cursor : null,
    swept: Number(h.swept ?? 0),
    warming: h.warming ? (JSON.parse(h.warming) as PartitionRules['warming']) : [],
    point: h.point ? (JSON.parse(h.point) as SwitchPoint) : null,
  };
}

interface RulesScripted {
  lsSwitchRules(...a: Array<string | number>): Promise<number>;
  lsSweepProgress(...a: Array<string | number>): Promise<number>;
}

/**
 * The owner's side of a partition's rules: switching it (fenced by the owner epoch, so only
 * the owner switches, and only between its own commits) and saving the sweep's cursor.
 */
export class PartitionRulesStore {
  constructor(private readonly redis: RedisClient, private readonly keys: PartitionKeys, private readonly epoch: () => number) {
    const r = redis as unknown as Partial<RulesScripted>;
    if (typeof r.lsSwitchRules !== 'function') {
      redis.defineCommand('lsSwitchRules', { numberOfKeys: 2, lua: SWITCH_RULES });
      redis.defineCommand('lsSweepProgress', { numberOfKeys: 2, lua: SWEEP_PROGRESS });
    }
  }

  private get r(): RulesScripted {
    return this.redis as unknown as RulesScripted;
  }

  read(): Promise<PartitionRules> {
    return readPartitionRules(this.redis, this.keys);
  }

  /** Puts `seq` in force for the partition, records the features it starts empty, and starts its sweep from the first customer. */
  async switchTo(seq: number, version: string, now: number, warming: PartitionRules['warming'] = [], point?: SwitchPoint): Promise<void> {
    const res = Number(await this.r.lsSwitchRules(this.keys.epoch, this.keys.rules, String(this.epoch()), seq, version, now, JSON.stringify(warming), point ? JSON.stringify(point) : ''));
    if (res !== 1) throw new FencedError(this.keys.partition, this.epoch(), 'rules switch refused');
  }

  /** Saves the sweep's cursor ('' = done) after `n` more customers. */
  async progress(cursor: string, n: number): Promise<void> {
    const res = Number(await this.r.lsSweepProgress(this.keys.epoch, this.keys.rules, String(this.epoch()), cursor, n));
    if (res !== 1) throw new FencedError(this.keys.partition, this.epoch(), 'sweep progress refused');
  }
}
