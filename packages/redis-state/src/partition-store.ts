import type { Cluster, Redis } from 'ioredis';
import { mastersOf, type RedisClient } from './client';
import { PartitionKeys } from './keys';
import { ACK, CLAIM, COMMIT, POPULATION_INIT } from './scripts';
import { FencedError, NotReplicatedError, VersionConflictError } from './errors';
import { PartitionRulesStore } from './rules-channel';

/** A customer's stored state: an opaque string owned by the engine, its version, and its scheduled due time. */
export interface StoredState {
  version: number;
  state: string | null;
  /** The next due time committed with the state (its timer), null for none. */
  dueAt: number | null;
  /** The dedupe ids stored apart (id → occurredAt), when asked for (`load(…, { ids: true })`). */
  ids?: Map<string, number>;
}

/** Dedupe ids kept in the customer's own sorted set (state layout 3). */
export interface CommitIds {
  /** Ids to add, with their occurredAt. */
  add: ReadonlyArray<readonly [string, number]>;
  /** Then every id older than this is removed. */
  horizon: number;
}

/** One decision to append to the outbox, with its line for the customer's recent-decision history. */
export interface CommitDecision {
  /** Serialized decision, appended to the outbox under the next sequence number. */
  decision: string;
  /** Short summary kept in the customer's recent-decisions history for explanations (one line: no newline). */
  historyEntry?: string;
}

/** One customer's new state to commit, with the decisions that led to it (oldest first). */
export interface CommitItem {
  customerId: string;
  expectedVersion: number;
  state: string;
  decisions?: readonly CommitDecision[];
  /** Next time the customer's labels may change without a new event; null clears the timer. */
  dueAt: number | null;
  /** Changes to the customer's dedupe ids kept apart; absent: the ids key is not touched. */
  ids?: CommitIds;
  /** How the commit moves the partition's population counters: label (or {@link NO_LABEL}) → delta. */
  population?: ReadonlyMap<string, number>;
}

/** The population counter of customers holding no label. */
export const NO_LABEL = '~none';

/** A partition's population counters: label → customers holding it, and the customers holding none. */
export interface Population {
  labels: Map<string, number>;
  none: number;
}

export interface OutboxEntry {
  seq: number;
  decision: string;
}

/** Observes the duration of each Redis operation (the service maps it to a histogram). */
export type OpObserver = (op: string, seconds: number) => void;

interface Scripts {
  lsCommit(...args: Array<string | number>): Promise<Array<number | string>>;
  lsClaim(epochKey: string, populationKey: string): Promise<[number, number]>;
  lsPopulationInit(epochKey: string, populationKey: string, ...args: Array<string | number>): Promise<number>;
  lsAck(key: string, seq: number): Promise<number>;
}
type ScriptedRedis = (Redis | Cluster) & Scripts;

/** Synchronous replication asked of each commit (REDIS_WAIT_REPLICAS). */
export interface ReplicaWait {
  /** Replicas that must acknowledge a commit before its decisions are published (0 = none). */
  replicas: number;
  /** How long WAIT may block; fewer acknowledgements by then fail the commit as retriable. */
  timeoutMs: number;
}

/** Registers the scripts once per connection (ioredis uses EVALSHA, falling back to EVAL). */
export function withScripts(redis: RedisClient): void {
  const r = redis as ScriptedRedis;
  if (typeof r.lsCommit === 'function') return;
  redis.defineCommand('lsCommit', { lua: COMMIT });
  redis.defineCommand('lsClaim', { numberOfKeys: 2, lua: CLAIM });
  redis.defineCommand('lsPopulationInit', { numberOfKeys: 2, lua: POPULATION_INIT });
  redis.defineCommand('lsAck', { numberOfKeys: 1, lua: ACK });
  // Auto-pipelining routes a script it does not know by its first argument: for COMMIT
  // that is the key count, not a key, so a cluster client would batch it with another
  // node's commands and refuse the pipeline ("same slots allocation group"). Sent alone, it
  // is routed by its keys (all of one partition's slot).
  if (redis.isCluster) redis.options.autoPipeliningIgnoredCommands = [...(redis.options.autoPipeliningIgnoredCommands ?? []), 'lsCommit'];
}

/**
 * Recent decisions kept per customer for `/admin/customers/<id>` when nothing else is
 * configured (`EVALUATOR_HISTORY_CAP`); each costs ~130 B of Redis per customer.
 */
export const DEFAULT_HISTORY_CAP = 3;

/**
 * The evaluator's state of one Kafka partition in Redis: customer states, the decision
 * outbox with its per-partition sequence, the owner epoch that fences stale owners, and
 * the timers of time-based changes.
 */
export class PartitionStore {
  readonly keys: PartitionKeys;
  /** The partition's rules version in force and its sweep (fenced by this store's epoch). */
  readonly rules: PartitionRulesStore;
  private epoch = 0;
  private counted = false;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    readonly partition: number,
    /**
     * historyCap: recent-decision entries kept per customer (default {@link DEFAULT_HISTORY_CAP}, 0 = none);
     * wait: replicas that must hold a commit (and the claim) before it is reported done.
     */
    private readonly opts: { historyCap?: number; observe?: OpObserver; wait?: ReplicaWait } = {},
  ) {
    withScripts(redis);
    this.keys = new PartitionKeys(prefix, partition);
    this.rules = new PartitionRulesStore(redis, this.keys, () => this.epoch);
  }

  private async timed<T>(op: string, f: () => Promise<T>): Promise<T> {
    const t0 = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      this.opts.observe?.(op, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }

  private get r(): ScriptedRedis {
    return this.redis as ScriptedRedis;
  }

  /**
   * Takes ownership: from now on only this store's commits succeed for the partition. When
   * {@link populationCurrent} is then false, rebuild the counters ({@link rebuildPopulation})
   * before committing.
   */
  async claim(): Promise<number> {
    const [epoch, current] = await this.timed('claim', () => this.r.lsClaim(this.keys.epoch, this.keys.population));
    this.epoch = Number(epoch);
    this.counted = Number(current) === 1;
    return this.epoch;
  }

  /** Whether the population counters were kept up to date by the previous owner (see CLAIM). */
  get populationCurrent(): boolean {
    return this.counted;
  }

  /**
   * Rebuilds the population counters from a census of the stored states: SCANs the
   * partition's state keys in pages of `pageSize` (so Redis is never blocked for long),
   * asks `labelsOf` for each state's labels, and writes the counts fenced by the owner
   * epoch. Call right after {@link claim}, before any commit: then no one else writes the
   * states meanwhile. Returns the number of states read.
   */
  async rebuildPopulation(labelsOf: (state: string) => Iterable<string>, pageSize = 500): Promise<number> {
    const counts = new Map<string, number>();
    let none = 0;
    let states = 0;
    // SCAN runs per node: on a Redis Cluster each master is scanned (only the one holding
    // the partition's slot has its keys; the keys of one page share that slot for MGET).
    for (const node of mastersOf(this.redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await this.timed('population_scan', () => node.scan(cursor, 'MATCH', this.keys.customerPattern, 'COUNT', pageSize));
        cursor = next;
        if (!keys.length) continue;
        const values = await this.timed('population_scan', () => this.redis.mget(keys));
        for (const v of values) {
          if (v == null) continue;
          states++;
          let held = 0;
          for (const l of labelsOf(v.slice(v.indexOf('|') + 1))) {
            counts.set(l, (counts.get(l) ?? 0) + 1);
            held++;
          }
          if (!held) none++;
        }
      } while (cursor !== '0');
    }
    const args: Array<string | number> = [String(this.epoch), NO_LABEL, none];
    for (const [l, n] of counts) args.push(l, n);
    const res = await this.timed('population_init', () => this.r.lsPopulationInit(this.keys.epoch, this.keys.population, ...args));
    if (Number(res) === -1) throw new FencedError(this.partition, this.epoch, 'another owner');
    this.counted = true;
    return states;
  }

  /** The partition's population counters as committed. */
  async population(): Promise<Population> {
    return readPopulation(this.redis, this.keys);
  }

  get ownerEpoch(): number {
    return this.epoch;
  }

  /**
   * Loads the states of `customerIds`, with their due times (and, with `ids`, their dedupe
   * ids kept apart), in one round trip.
   */
  async load(customerIds: string[], opts: { ids?: boolean } = {}): Promise<Map<string, StoredState>> {
    const out = new Map<string, StoredState>();
    if (!customerIds.length) return out;
    const res = await this.timed('load', () => {
      const p = this.redis
        .pipeline()
        .mget(customerIds.map((c) => this.keys.customer(c)))
        .zmscore(this.keys.timers, ...customerIds);
      if (opts.ids) for (const c of customerIds) p.zrange(this.keys.ids(c), 0, -1, 'WITHSCORES');
      return p.exec();
    });
    const [[mgetErr, values], [zErr, scores]] = res as [[Error | null, Array<string | null>], [Error | null, Array<string | null>]];
    if (mgetErr) throw mgetErr;
    if (zErr) throw zErr;
    customerIds.forEach((c, i) => {
      const v = values[i];
      const due = scores[i];
      const dueAt = due == null ? null : Number(due);
      const entry: StoredState = v == null ? { version: 0, state: null, dueAt } : { version: Number(v.slice(0, v.indexOf('|'))), state: v.slice(v.indexOf('|') + 1), dueAt };
      if (opts.ids) {
        const [err, flat] = (res as Array<[Error | null, string[]]>)[2 + i]!;
        if (err) throw err;
        const ids = new Map<string, number>();
        for (let j = 0; j + 1 < flat.length; j += 2) ids.set(flat[j]!, Number(flat[j + 1]));
        entry.ids = ids;
      }
      out.set(c, entry);
    });
    return out;
  }

  /**
   * Commits the items atomically: all or none, and only while this store still owns the
   * partition. Returns, per item, the sequence numbers assigned to its decisions. With
   * `appliedOffset` (a batch's last offset + 1), records in the same step that the states
   * now hold every input event before it ({@link appliedOffset}).
   */
  async commit(items: readonly CommitItem[], appliedOffset?: string): Promise<number[][]> {
    if (!items.length) return [];
    const keys = [this.keys.epoch, this.keys.seq, this.keys.outbox, this.keys.timers, this.keys.history, this.keys.population];
    const args: Array<string | number> = [String(this.epoch), items.length, this.opts.historyCap ?? DEFAULT_HISTORY_CAP];
    for (const it of items) {
      keys.push(this.keys.customer(it.customerId), this.keys.ids(it.customerId));
      const ds = it.decisions ?? [];
      const add = it.ids?.add ?? [];
      const pop = it.population ? [...it.population].filter(([, d]) => d !== 0) : [];
      args.push(it.customerId, it.expectedVersion, it.state, it.dueAt == null ? '' : it.dueAt, it.ids ? it.ids.horizon : '', ds.length, add.length, pop.length);
      for (const d of ds) {
        if (d.historyEntry?.includes('\n')) throw new RangeError(`history entry of ${it.customerId} holds a newline`);
        args.push(d.decision, d.historyEntry ?? '');
      }
      for (const [id, t] of add) args.push(id, t);
      for (const [field, delta] of pop) args.push(field, delta);
    }
    if (appliedOffset !== undefined) {
      keys.push(this.keys.applied);
      args.push(appliedOffset);
    }
    const res = await this.timed('commit', () => this.replicated(this.r.lsCommit(keys.length, ...keys, ...args)));
    const status = Number(res[0]);
    if (status === -1) throw new FencedError(this.partition, this.epoch, String(res[1] ?? ''));
    if (status === -2) {
      const i = Number(res[1]) - 1;
      throw new VersionConflictError(this.partition, items[i]?.customerId ?? '?', items[i]?.expectedVersion ?? -1, Number(res[2]));
    }
    let next = 1;
    return items.map((it) => (it.decisions ?? []).map(() => Number(res[next++])));
  }

  /**
   * Runs a write, then — with `wait` — WAIT for the replicas. WAIT covers every earlier
   * write of this connection, and replication is in order, so it also covers what an
   * earlier owner wrote before our claim. In a cluster the WAIT goes in one pipeline with a
   * keyed command of the partition, so it reaches the master of the partition's slot.
   */
  private async replicated<T>(write: Promise<T>): Promise<T> {
    const res = await write;
    await this.awaitReplicas();
    return res;
  }

  private async awaitReplicas(): Promise<void> {
    const w = this.opts.wait;
    if (!w || w.replicas <= 0) return;
    const out = await this.redis.pipeline().exists(this.keys.epoch).wait(w.replicas, w.timeoutMs).exec();
    const [err, acked] = out?.[1] ?? [new Error('WAIT: no reply'), 0];
    if (err) throw err;
    if (Number(acked) < w.replicas) throw new NotReplicatedError(this.partition, w.replicas, Number(acked), w.timeoutMs);
  }

  /**
   * Decisions committed but not yet acknowledged by Kafka, oldest first. With `wait`, only
   * once the replicas hold them: a decision must not reach Kafka before it would survive a
   * failover of its master.
   */
  async pendingOutbox(limit = 10_000): Promise<OutboxEntry[]> {
    await this.awaitReplicas();
    const rows = await this.timed('outbox_read', () => this.redis.xrange(this.keys.outbox, '-', '+', 'COUNT', limit));
    return rows.map(([id, fields]) => ({ seq: Number(id.split('-')[0]), decision: fields[1] ?? '' }));
  }

  /** Removes outbox entries up to `seq` (inclusive) after Kafka acknowledged them. */
  async ack(seq: number): Promise<void> {
    await this.timed('outbox_ack', () => this.r.lsAck(this.keys.outbox, seq));
  }

  async outboxLength(): Promise<number> {
    return this.redis.xlen(this.keys.outbox);
  }

  /**
   * The input offset the committed states have applied up to (exclusive), as the last
   * batch commit recorded it; null when no commit recorded one (nothing applied yet, or
   * states written by an evaluator older than the record).
   */
  async appliedOffset(): Promise<string | null> {
    return this.redis.get(this.keys.applied);
  }

  /** Customers whose due time is at or before `now`, earliest first. */
  async dueTimers(now: number, limit = 500): Promise<Array<{ customerId: string; dueAt: number }>> {
    const flat = await this.timed('timers', () => this.redis.zrangebyscore(this.keys.timers, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit));
    const out: Array<{ customerId: string; dueAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ customerId: flat[i]!, dueAt: Number(flat[i + 1]) });
    return out;
  }

  /**
   * One step of a SCAN over the partition's customers from `cursor` ('0' = the start):
   * the next cursor ('0' = done) and the customer ids found (possibly none, and a customer
   * may come twice: SCAN's guarantee is that every customer present all along comes at
   * least once, which is what a resumable sweep needs). On a Redis Cluster SCAN runs per
   * node, so the cursor is `<master index>:<node cursor>` over the masters in turn (a
   * failover that reorders the masters mid-sweep may make it skip some: run `rules status`).
   */
  async scanCustomers(cursor: string, count: number): Promise<{ cursor: string; customers: string[] }> {
    const masters = mastersOf(this.redis);
    const colon = cursor.indexOf(':');
    const node = colon < 0 ? 0 : Number(cursor.slice(0, colon));
    const at = colon < 0 ? cursor : cursor.slice(colon + 1);
    const [next, keys] = await this.timed('scan', () => masters[Math.min(node, masters.length - 1)]!.scan(at, 'MATCH', this.keys.customerPattern, 'COUNT', count));
    const cut = this.keys.customer('').length;
    const done = next === '0' && node + 1 >= masters.length;
    return { cursor: done ? '0' : next === '0' ? `${node + 1}:0` : masters.length > 1 ? `${node}:${next}` : next, customers: keys.map((k) => k.slice(cut)) };
  }

  /** The customer's recent decisions (newest first), for explanations. */
  async history(customerId: string): Promise<string[]> {
    return readHistory(this.redis, this.keys, customerId);
  }
}

/** The population counters of the partition of `keys` (internal fields left out). */
export async function readPopulation(redis: RedisClient, keys: PartitionKeys): Promise<Population> {
  const all = await redis.hgetall(keys.population);
  const labels = new Map<string, number>();
  let none = 0;
  for (const [k, v] of Object.entries(all)) {
    if (k === NO_LABEL) none = Number(v);
    else if (!k.startsWith('~')) labels.set(k, Number(v));
  }
  return { labels, none };
}

/** A customer's recent-decision history entries (newest first) in the partition of `keys`. */
export async function readHistory(redis: RedisClient, keys: PartitionKeys, customerId: string): Promise<string[]> {
  const v = await redis.hget(keys.history, customerId);
  return v ? v.split('\n') : [];
}
