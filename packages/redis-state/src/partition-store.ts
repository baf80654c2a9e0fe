import type { Redis } from 'ioredis';
import { PartitionKeys } from './keys';
import { ACK, CLAIM, COMMIT } from './scripts';
import { FencedError, VersionConflictError } from './errors';
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
}

export interface OutboxEntry {
  seq: number;
  decision: string;
}

/** Observes the duration of each Redis operation (the service maps it to a histogram). */
export type OpObserver = (op: string, seconds: number) => void;

interface ScriptedRedis extends Redis {
  lsCommit(...args: Array<string | number>): Promise<Array<number | string>>;
  lsClaim(key: string): Promise<number>;
  lsAck(key: string, seq: number): Promise<number>;
}

/** Registers the scripts once per connection (ioredis uses EVALSHA, falling back to EVAL). */
export function withScripts(redis: Redis): void {
  const r = redis as ScriptedRedis;
  if (typeof r.lsCommit === 'function') return;
  redis.defineCommand('lsCommit', { lua: COMMIT });
  redis.defineCommand('lsClaim', { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand('lsAck', { numberOfKeys: 1, lua: ACK });
}

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

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly partition: number,
    /** historyCap: recent-decision entries kept per customer (default 3, 0 = none). */
    private readonly opts: { historyCap?: number; observe?: OpObserver } = {},
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

  /** Takes ownership: from now on only this store's commits succeed for the partition. */
  async claim(): Promise<number> {
    this.epoch = Number(await this.timed('claim', () => this.r.lsClaim(this.keys.epoch)));
    return this.epoch;
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
   * partition. Returns, per item, the sequence numbers assigned to its decisions.
   */
  async commit(items: readonly CommitItem[]): Promise<number[][]> {
    if (!items.length) return [];
    const keys = [this.keys.epoch, this.keys.seq, this.keys.outbox, this.keys.timers, this.keys.history];
    const args: Array<string | number> = [String(this.epoch), items.length, this.opts.historyCap ?? 3];
    for (const it of items) {
      keys.push(this.keys.customer(it.customerId), this.keys.ids(it.customerId));
      const ds = it.decisions ?? [];
      const add = it.ids?.add ?? [];
      args.push(it.customerId, it.expectedVersion, it.state, it.dueAt == null ? '' : it.dueAt, it.ids ? it.ids.horizon : '', ds.length, add.length);
      for (const d of ds) {
        if (d.historyEntry?.includes('\n')) throw new RangeError(`history entry of ${it.customerId} holds a newline`);
        args.push(d.decision, d.historyEntry ?? '');
      }
      for (const [id, t] of add) args.push(id, t);
    }
    const res = await this.timed('commit', () => this.r.lsCommit(keys.length, ...keys, ...args));
    const status = Number(res[0]);
    if (status === -1) throw new FencedError(this.partition, this.epoch, String(res[1] ?? ''));
    if (status === -2) {
      const i = Number(res[1]) - 1;
      throw new VersionConflictError(this.partition, items[i]?.customerId ?? '?', items[i]?.expectedVersion ?? -1, Number(res[2]));
    }
    let next = 1;
    return items.map((it) => (it.decisions ?? []).map(() => Number(res[next++])));
  }

  /** Decisions committed but not yet acknowledged by Kafka, oldest first. */
  async pendingOutbox(limit = 10_000): Promise<OutboxEntry[]> {
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
   * least once, which is what a resumable sweep needs).
   */
  async scanCustomers(cursor: string, count: number): Promise<{ cursor: string; customers: string[] }> {
    const [next, keys] = await this.timed('scan', () => this.redis.scan(cursor, 'MATCH', this.keys.customerPattern, 'COUNT', count));
    const cut = this.keys.customer('').length;
    return { cursor: next, customers: keys.map((k) => k.slice(cut)) };
  }

  /** The customer's recent decisions (newest first), for explanations. */
  async history(customerId: string): Promise<string[]> {
    return readHistory(this.redis, this.keys, customerId);
  }
}

/** A customer's recent-decision history entries (newest first) in the partition of `keys`. */
export async function readHistory(redis: Redis, keys: PartitionKeys, customerId: string): Promise<string[]> {
  const v = await redis.hget(keys.history, customerId);
  return v ? v.split('\n') : [];
}
