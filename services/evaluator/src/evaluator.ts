import type { KafkaMessage, Message, Producer } from 'kafkajs';
import { customerEventType, labelDecisionType, subjectFor, COMPATIBILITY, type CustomerEvent, type LabelDecision } from '@labelstream/contracts';
import { attachIds, backfillPlan, compactIds, decodeState, encodeState, evaluateAt, idEntries, mergeBackfill, reevaluate, runBackfill, switchTarget, toEngineEvent, warmingAfterSwitch, warmingMap, type BackfillIo, type BackfillPlan, type EngineEvent, type WarmingFeature } from '@labelstream/engine';
import type { CompiledRules } from '@labelstream/rules';
import { AdapterError, chunkMessages, decodeCustomerHistory, isRetriable, sendChunked, toDeadLetter, type BacklogProbe, type Batch, type BatchContext, type HistoryReach, type Registry } from '@labelstream/kafka';
import type { Logger, Metrics } from '@labelstream/observability';
import { FencedError, PartitionKeys, PartitionStore, readPopulation, type CommitItem, type RedisClient, type ReplicaWait, type RulesChannel } from '@labelstream/redis-state';
import { KeyedMutex } from './ownership';
import { StateCache, type CachedState } from './state-cache';
import { outcomeOf, replaySteps, type CustomerOutcome, type OutcomeOptions, type ReplayOptions } from './customer-steps';
import { historyEntry, toDecision, type PendingDecision } from './decisions';
import { createRollout } from './rollout';
import { flaps, populationDelta, type HeldLabels } from './population';

export interface EvaluatorDeps {
  registry: Registry;
  producer: Producer;
  redis: RedisClient;
  /** Replicas that must hold each commit before its decisions are published (REDIS_WAIT_REPLICAS). */
  replicaWait?: ReplicaWait;
  rules: CompiledRules;
  logger: Logger;
  metrics: Metrics;
  topics: { customerEvents: string; decisions: string; dlq: string };
  keyPrefix: string;
  timerPollMs: number;
  /** Recent decisions kept per customer for explanations (default 3; 0 = none). */
  historyCap?: number;
  /** Decoded states kept in memory across batches, in customers (default 0: none). */
  stateCacheCustomers?: number;
  /**
   * Tells, for newly assigned partitions, whether they hold input not yet consumed (see
   * `timerHorizon`). Without it a new partition counts as caught up.
   */
  backlog?: BacklogProbe;
  /** A label left within this long of entering it counts as a flap (default 24 h). */
  flapWindowMs?: number;
  /** Wall clock; injectable for tests. */
  now?: () => number;
  /**
   * Live rules changes (README "Changing rules"): the channel `labelstream rules deploy`
   * publishes to. Absent: `rules` decides for ever.
   */
  rulesChannel?: RulesChannel;
  /** How often the rules channel is read, ms (default 1000). */
  rulesPollMs?: number;
  /** Customers per second this instance's re-evaluation sweeps may take, all partitions together (default 2000). */
  sweepPerSecond?: number;
  /**
   * Reads a partition's retained input history (labels.customer-events.v1), for the backfill
   * of the features a rules switch adds. Absent: no backfill, such features start empty.
   */
  history?: HistoryReader;
  /** EVALUATOR_BACKFILL_MAX_CUSTOMERS: customers whose backfill folds one pass holds in memory; more take more passes over the history (see `runBackfill`). */
  backfillMaxCustomers: number;
  /** INGEST_MAX_FUTURE_SKEW: how far an event's time may be ahead of its record's time; the backfill reads that much more history. */
  maxFutureSkewMs: number;
}

/** Reads the retained records of one input partition from `sinceMs` (null: the log start) up to `until` (exclusive; null: the end). */
export type HistoryReader = (range: { partition: number; sinceMs: number | null; until: string | null }, onRecords: (records: KafkaMessage[]) => Promise<void>) => Promise<HistoryReach>;

/**
 * States are changed in place (no copy per event): they belong to the state cache, and a
 * batch or timer run that fails drops its partition's entries (a half-changed state is
 * never reused); one that succeeds leaves exactly the committed states there.
 */
const REPLAY = { inPlace: true } as const;

/** States are stored in layout 3: dedupe ids in the customer's own sorted set, written incrementally. */
const IDS_APART: OutcomeOptions = { idsApart: true };

/** One customer's part of a commit: its loaded entry and what its steps came to. */
interface Plan {
  customerId: string;
  loaded: CachedState;
  outcome: CustomerOutcome;
  /** The labels the customer held before these steps (the replay changes the loaded state in place). */
  before: HeldLabels;
}

/** The held labels of a loaded state, copied before a replay changes them. */
function heldBefore(s: CachedState): HeldLabels {
  return s.state ? { ...s.state.l } : null;
}

/** The later of two input offsets (null: none). */
function laterOffset(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return BigInt(a) >= BigInt(b) ? a : b;
}

/** Customers a sweep round asks the rate budget for (per partition, per timer tick). */
const SWEEP_ROUND = 500;

/** Thrown when a partition changed hands under us: retried after the rebalance settles. */
class OwnershipLostError extends AdapterError {
  constructor(partition: number, cause: unknown) {
    super('OWNERSHIP_LOST', `partition ${partition} was taken over by another evaluator`, true, { partition }, { cause });
  }
}

interface Owned {
  store: PartitionStore;
  /** The rules sequence in force for the partition (0 = the rules file) and its compiled rules. */
  seq: number;
  rules: CompiledRules;
  /** The re-evaluation sweep's SCAN cursor; null when there is none to do. */
  cursor: string | null;
  /** When the partition switched to `seq` (the cause time of the sweep's decisions). */
  switchedAt: number;
  /** Features started empty by a switch whose window is not covered yet. */
  warming: WarmingFeature[];
  /** The same as steps take it (`whileWarming: hold` labels wait for them). */
  warmingUntil: ReadonlyMap<string, number>;
  /** Every timer due at or before this has fired (recorded with a switch: the fault run's oracle places it). */
  firedUntil: number;
}

/** How far a partition's input has been applied: whether it was caught up at its last batch, and the latest event time applied. */
interface Progress {
  caughtUp: boolean;
  eventTime: number;
  /** The offset after the last input record applied (recorded with a switch); absent until a batch. */
  nextOffset?: string;
}

/**
 * The evaluator: per partition it owns, applies canonical events to customer state in Redis
 * through the pure engine, commits the new state, the decision (outbox) and the next due
 * time atomically, drains the outbox to the decisions topic, and only then lets the runner
 * commit input offsets. Timers re-evaluate customers at their due time with no new event.
 */
export function createEvaluator(deps: EvaluatorDeps) {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const mutex = new KeyedMutex();
  const owned = new Map<number, Promise<Owned>>();
  /** Partitions taken over and drained (their `owned` promise resolved). */
  const claimed = new Set<number>();
  /** What `owned` resolved to, for the claimed partitions (read synchronously by `/readyz`). */
  const settled = new Map<number, Owned>();
  let assigned = new Set<number>();
  let decisionSchemaId = 0;
  let encodeDecision: ((d: LabelDecision) => Buffer) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const timerRuns = new Set<number>();
  /** Partitions whose last publish failed: their outbox must be drained before anything else. */
  const undelivered = new Set<number>();
  /** Per assigned partition; absent until known (a probe or a batch). */
  const progress = new Map<number, Progress>();
  /** Every label's category per rule set, so the current-labels topic can name the categories of unchanged labels too. */
  const categories = new WeakMap<CompiledRules, Map<string, string>>();
  const categoryOf = (rules: CompiledRules): Map<string, string> => {
    let m = categories.get(rules);
    if (!m) categories.set(rules, (m = new Map(rules.labels.map((l) => [l.name, l.category] as const))));
    return m;
  };
  const cache = new StateCache(deps.stateCacheCustomers ?? 0);
  const rollout = createRollout({
    channel: deps.rulesChannel,
    fileRules: deps.rules,
    pollMs: deps.rulesPollMs ?? 1000,
    sweepPerSecond: deps.sweepPerSecond ?? 2000,
    logger,
    metrics,
    now,
  });
  const flapWindowMs = deps.flapWindowMs ?? 24 * 3_600_000;
  /** Backfills running, per partition: their progress (for `/readyz`) and when they end. */
  const backfills = new Map<number, { done: Promise<void>; events: number; customers: number; passes: number; startedAt: number }>();
  /** Population series exported per partition (label names), so a revoked partition's are removed. */
  const exported = new Map<number, Set<string>>();

  const observe = (op: string, seconds: number) => metrics.redisScriptDuration.observe({ op }, seconds);

  /** Registers the decision schema; call once before consuming. */
  async function init(): Promise<void> {
    decisionSchemaId = await deps.registry.register(subjectFor(deps.topics.decisions), labelDecisionType.schema() as object, COMPATIBILITY);
    encodeDecision = deps.registry.encoder<LabelDecision>(decisionSchemaId, labelDecisionType);
  }

  async function publish(partition: number, store: PartitionStore, decisions: LabelDecision[]): Promise<void> {
    if (!decisions.length) return;
    const encode = encodeDecision!;
    const items = decisions.map((d): { seq: number; message: Message } => ({
      seq: d.seq,
      message: { key: d.customerId, value: encode(d), partition, headers: { 'ls-seq': String(d.seq), 'ls-source-partition': String(partition) } },
    }));
    // In runs that fit a record batch; each run acknowledged in the outbox once Kafka has it.
    for (const run of chunkMessages(items, (i) => i.message)) {
      await deps.producer.send({ topic: deps.topics.decisions, messages: run.map((i) => i.message), acks: -1 });
      metrics.eventsProduced.inc({ topic: deps.topics.decisions, type: 'DECISION' }, run.length);
      await store.ack(run[run.length - 1]!.seq);
    }
  }

  /** Delivers what a previous owner (or our own crash) left in the outbox, in order. */
  async function drain(partition: number, store: PartitionStore): Promise<number> {
    let total = 0;
    for (;;) {
      const pending = await store.pendingOutbox(1000);
      if (!pending.length) break;
      const decisions = pending.map((e) => toDecision(partition, e.seq, JSON.parse(e.decision) as PendingDecision));
      await publish(partition, store, decisions);
      total += pending.length;
    }
    metrics.outboxBacklog.set({ partition: String(partition) }, 0);
    return total;
  }

  /** Takes a partition over (fencing the previous owner) and drains its outbox, once per assignment. */
  function own(partition: number): Promise<Owned> {
    let p = owned.get(partition);
    if (!p) {
      p = mutex.run(partition, async () => {
        const store = new PartitionStore(deps.redis, deps.keyPrefix, partition, { observe, historyCap: deps.historyCap, ...(deps.replicaWait ? { wait: deps.replicaWait } : {}) });
        cache.drop(partition); // whatever we knew may have changed under another owner
        const epoch = await store.claim();
        if (!store.populationCurrent) {
          // The counters are absent (a state from before them) or someone owned the partition
          // without keeping them: count them afresh before the first commit moves them.
          const t0 = now();
          const states = await store.rebuildPopulation((raw) => Object.keys(decodeState(raw).l));
          logger.info({ partition, epoch, states, ms: now() - t0 }, 'population counters rebuilt from the stored states');
        }
        const drained = await drain(partition, store);
        // The partition's rules are those its previous owner put in force, whatever this
        // instance would prefer: one version decides for it until its owner switches it.
        const inForce = await store.rules.read();
        const rules = await rollout.rules(inForce.seq);
        metrics.rulesPartitionSeq.set({ partition: String(partition) }, inForce.seq);
        metrics.rulesSweepActive.set({ partition: String(partition) }, inForce.cursor !== null ? 1 : 0);
        showWarming(partition, inForce.warming);
        logger.info({ partition, epoch, drained, rulesSeq: inForce.seq, rulesVersion: rules.version, sweeping: inForce.cursor !== null }, 'took partition over');
        return { store, seq: inForce.seq, rules, cursor: inForce.cursor, switchedAt: inForce.switchedAt ?? now(), warming: inForce.warming, warmingUntil: warmingMap(inForce.warming), firedUntil: Number.NEGATIVE_INFINITY };
      });
      owned.set(partition, p);
      const mine = p;
      p.then(
        (o) => {
          if (owned.get(partition) !== mine) return;
          claimed.add(partition);
          settled.set(partition, o);
        },
        () => {
          if (owned.get(partition) === mine) owned.delete(partition);
        },
      );
    }
    return p;
  }

  /** Runs a fenced Redis write; when another owner took the partition over, lets it go and throws {@link OwnershipLostError}. */
  async function fenced<T>(partition: number, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof FencedError) {
        metrics.fencedWrites.inc();
        owned.delete(partition);
        claimed.delete(partition);
        settled.delete(partition);
        throw new OwnershipLostError(partition, err);
      }
      throw err;
    }
  }

  /**
   * Commits the outcomes of one partition's customers — each customer's final state, next
   * due time and every decision on the way — in one atomic, fenced Redis call, then
   * publishes the decisions.
   */
  async function commitAndPublish(partition: number, { store, rules }: Owned, plans: Plan[], appliedOffset?: string): Promise<void> {
    if (!plans.length) return;
    const categoryOfLabel = categoryOf(rules);
    const decidedAt = now();
    const items: CommitItem[] = [];
    const pending: PendingDecision[][] = [];
    for (const { customerId, loaded, outcome, before } of plans) {
      const ds = outcome.decisions.map(
        (point): PendingDecision => ({
          customerId,
          effectiveAt: point.effectiveAt,
          decidedAt,
          rulesVersion: rules.version,
          cause: point.cause,
          changes: point.changes,
          labels: point.labels,
          labelCategories: Object.fromEntries(point.labels.map((l) => [l, categoryOfLabel.get(l) ?? 'custom'])),
        }),
      );
      pending.push(ds);
      items.push({
        customerId,
        expectedVersion: loaded.version,
        state: outcome.state,
        decisions: ds.map((d) => ({ decision: JSON.stringify(d), historyEntry: historyEntry(d) })),
        dueAt: outcome.nextDueAt,
        // Ids moving out of a layout 2 state go in whole, once; after that only the new ones.
        ids: { add: loaded.idsInline ? idEntries(outcome.final) : outcome.appliedIds, horizon: outcome.final.c - rules.allowedLatenessMs },
        population: populationDelta(before, outcome.final.l),
      });
    }
    // From the commit on, the outbox may hold decisions Kafka has not seen.
    const hasDecisions = pending.some((ds) => ds.length > 0);
    if (hasDecisions) undelivered.add(partition);
    let seqs: number[][];
    try {
      seqs = await fenced(partition, () => store.commit(items, appliedOffset));
    } catch (err) {
      cache.drop(partition);
      throw err;
    }
    for (const { customerId, loaded, outcome, before } of plans) {
      for (const label of flaps(before, outcome.decisions, flapWindowMs)) metrics.labelFlaps.inc({ label });
      compactIds(outcome.final);
      cache.set(partition, customerId, { version: loaded.version + 1, state: outcome.final, dueAt: outcome.nextDueAt });
    }
    if (!hasDecisions) return;
    const decisions = seqs.flatMap((list, i) => list.map((seq, j) => toDecision(partition, seq, pending[i]![j]!)));
    for (const d of decisions) metrics.decisions.inc({ cause: d.cause.kind });
    metrics.outboxBacklog.set({ partition: String(partition) }, decisions.length);
    await publish(partition, store, decisions);
    undelivered.delete(partition);
    metrics.outboxBacklog.set({ partition: String(partition) }, 0);
  }

  /**
   * The stored states of `customers`: from the cache where this evaluator committed or read
   * them before, from Redis (one round trip) for the rest, decoded.
   */
  async function loadStates(partition: number, store: PartitionStore, customers: readonly string[]): Promise<Map<string, CachedState>> {
    const out = new Map<string, CachedState>();
    const missing: string[] = [];
    for (const c of customers) {
      const hit = cache.get(partition, c);
      if (hit) out.set(c, hit);
      else missing.push(c);
    }
    metrics.stateCache.inc({ result: 'hit' }, customers.length - missing.length);
    if (!missing.length) return out;
    metrics.stateCache.inc({ result: 'miss' }, missing.length);
    const stored = await store.load(missing, { ids: true });
    for (const c of missing) {
      const s = stored.get(c)!;
      const state = s.state ? decodeState(s.state) : null;
      const idsInline = state !== null && idEntries(state).length > 0;
      if (state && s.ids) attachIds(state, s.ids);
      const entry: CachedState = { version: s.version, state, dueAt: s.dueAt, ...(idsInline ? { idsInline } : {}) };
      out.set(c, entry);
      cache.set(partition, c, entry);
    }
    return out;
  }

  /**
   * A retry after a failed publish finds its events already applied (so it decides nothing
   * new); the decisions it committed are still in the outbox and must reach Kafka before
   * the runner may commit the input offsets.
   */
  async function deliverLeftovers(partition: number, store: PartitionStore): Promise<void> {
    if (!undelivered.has(partition)) return;
    await drain(partition, store);
    undelivered.delete(partition);
  }

  /** The batch handler for labels.customer-events.v1. */
  async function handleBatch(batch: Batch, ctx: BatchContext): Promise<void> {
    const { partition } = batch;
    const o = await own(partition);
    // A backfill holds the partition (its live events wait): keep the membership alive meanwhile.
    for (let b = backfills.get(partition); b; b = backfills.get(partition)) {
      await ctx.heartbeat();
      await Promise.race([b.done, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    await mutex.run(partition, () => applyBatch(partition, o, batch, ctx).catch((err: unknown) => {
      cache.drop(partition); // a failed commit's outcome is unknown
      throw err;
    }));
  }

  async function applyBatch(partition: number, o: Owned, batch: Batch, ctx: BatchContext): Promise<void> {
    const { store, rules } = o;
    await deliverLeftovers(partition, store);
    const dead: Message[] = [];
    /** Events consumed by type: counted once per batch (a labelled metric per message costs a lookup each). */
    const consumed: Partial<Record<CustomerEvent['eventType'], number>> = {};
    const byCustomer = new Map<string, EngineEvent[]>();
    for (const m of batch.messages) {
      let ev: CustomerEvent;
      try {
        ev = deps.registry.decodeIfLoaded<CustomerEvent>(m.value, customerEventType) ?? (await deps.registry.decode<CustomerEvent>(m.value, customerEventType));
      } catch (err) {
        if (isRetriable(err)) throw err;
        const reason = (err as { code?: string }).code ?? 'UNDECODABLE';
        dead.push(toDeadLetter(m, batch, { reason, message: (err as Error).message }));
        metrics.deadLettered.inc({ topic: deps.topics.dlq, reason });
        continue;
      }
      consumed[ev.eventType] = (consumed[ev.eventType] ?? 0) + 1;
      const e = toEngineEvent(ev);
      const list = byCustomer.get(e.customerId);
      if (list) list.push(e);
      else byCustomer.set(e.customerId, [e]);
    }
    for (const [type, n] of Object.entries(consumed)) metrics.eventsConsumed.inc({ topic: batch.topic, type }, n);
    const customers = [...byCustomer.keys()];
    let eventTime = progress.get(partition)?.eventTime ?? Number.NEGATIVE_INFINITY;
    for (const list of byCustomer.values()) for (const e of list) if (e.occurredAt > eventTime) eventTime = e.occurredAt;
    const stored = await loadStates(partition, store, customers);
    const plans: Plan[] = [];
    const replay: ReplayOptions = o.warmingUntil.size ? { ...REPLAY, switchedAt: o.switchedAt, warming: o.warmingUntil } : { ...REPLAY, switchedAt: o.switchedAt };
    for (const customerId of customers) {
      const events = byCustomer.get(customerId)!;
      const s = stored.get(customerId)!;
      const before = heldBefore(s);
      const outcome = outcomeOf(replaySteps(s.state, events, rules, s.dueAt, replay), (step) => {
        for (const o of step.result.outcomes) {
          if (o.outcome === 'late') metrics.lateEvents.inc();
          else if (o.outcome === 'duplicate') metrics.duplicateEvents.inc();
        }
      }, IDS_APART);
      if (!outcome?.changed) continue; // nothing new
      plans.push({ customerId, loaded: s, outcome, before });
    }
    if (!ctx.isActive()) throw new OwnershipLostError(partition, new Error('revoked mid-batch'));
    const last = batch.messages[batch.messages.length - 1];
    // The states now hold every event up to the batch's last: where a backfill stops reading.
    await commitAndPublish(partition, o, plans, last ? String(BigInt(last.offset) + 1n) : undefined);
    if (dead.length) {
      await sendChunked(deps.producer, new Map([[deps.topics.dlq, dead]]));
    }
    const caughtUp = !last || BigInt(batch.highWatermark) - BigInt(last.offset) - 1n <= 0n;
    progress.set(partition, { caughtUp, eventTime, ...(last ? { nextOffset: String(BigInt(last.offset) + 1n) } : {}) });
  }

  /**
   * The latest due time the timers of a partition may fire at now. Timers stand for the
   * passing of time with no event; while the partition's input is behind, its backlog may
   * hold a customer's events from before a due time, and firing the timer first would
   * apply them after it, at the timer's clock (docs/RELIABILITY.md, "Exactness"). So:
   * caught up → the wall clock; behind → no later than the latest event time applied (the
   * replay fires a customer's due times between its backlogged events itself); not known
   * yet (just assigned) → ask the probe, and fire nothing until it answers.
   */
  async function timerHorizon(partition: number, wall: number): Promise<number> {
    let p = progress.get(partition);
    if (!p) {
      if (!deps.backlog) {
        p = { caughtUp: true, eventTime: Number.NEGATIVE_INFINITY };
      } else {
        const behind = (await deps.backlog.behind([partition])).get(partition) ?? false;
        // A batch may have reported in the meantime: it is more recent than the probe.
        p = progress.get(partition) ?? { caughtUp: !behind, eventTime: Number.NEGATIVE_INFINITY };
      }
      progress.set(partition, p);
    }
    return p.caughtUp ? wall : Math.min(wall, p.eventTime);
  }

  /** Re-evaluates customers whose due time has come, for every partition we own. */
  async function runTimers(partition: number): Promise<void> {
    const o = await own(partition);
    await mutex.run(partition, async () => {
      await deliverLeftovers(partition, o.store);
      try {
        await switchRules(partition, o);
        await fireDue(partition, o);
        if (o.cursor !== null) await sweep(partition, o);
      } catch (err) {
        cache.drop(partition);
        throw err;
      }
    });
  }

  async function fireDue(partition: number, o: Owned): Promise<void> {
    const { store, rules } = o;
    for (let round = 0; round < 20; round++) {
      const t = now();
      const horizon = await timerHorizon(partition, t);
      if (!Number.isFinite(horizon)) return;
      const due = await store.dueTimers(horizon, 500);
      if (!due.length) {
        o.firedUntil = Math.max(o.firedUntil, horizon);
        return;
      }
      const stored = await loadStates(partition, store, due.map((d) => d.customerId));
      const replay: ReplayOptions = o.warmingUntil.size ? { ...REPLAY, switchedAt: o.switchedAt, warming: o.warmingUntil } : { ...REPLAY, switchedAt: o.switchedAt };
      const plans = due.map(({ customerId, dueAt }) => {
        const s = stored.get(customerId)!;
        metrics.timerLateness.observe(Math.max(0, t - dueAt) / 1000);
        const before = heldBefore(s);
        // Not evaluated under the rules in force yet: its due time is the old rules'. It is
        // re-evaluated at its clock first (RULES_CHANGED, as the sweep would), which stores the
        // new rules' due time; the next round fires that one if it has come.
        if (s.state && s.state.r !== rules.version) return { customerId, loaded: s, outcome: outcomeOf(replaySteps(s.state, [], rules, s.dueAt, replay), undefined, IDS_APART)!, before };
        const result = evaluateAt(s.state, dueAt, rules, replay);
        const cause = { kind: 'TIMER' as const, eventId: null, eventType: null, eventOccurredAt: dueAt };
        return { customerId, loaded: s, outcome: outcomeOf([{ result, cause }], undefined, IDS_APART)!, before };
      });
      await commitAndPublish(partition, o, plans);
      if (due.length < 500) {
        o.firedUntil = Math.max(o.firedUntil, horizon); // every timer due by the horizon has fired
        return;
      }
    }
  }

  /**
   * The partition's single switch point: between two of its commits (under its mutex), the
   * owner puts the newest published rules in force — in Redis, fenced by its epoch, so a
   * stale owner cannot switch and a new owner reads the partition's version — and starts
   * the sweep. From here on every decision for the partition names the new version.
   */
  async function switchRules(partition: number, o: Owned): Promise<void> {
    const target = switchTarget(o.seq, await rollout.desiredSeq());
    if (target === null) return;
    const rules = await rollout.rules(target);
    const at = now();
    const plan = deps.history ? backfillPlan(o.rules, rules) : null;
    // Before the switch: a crash half-way leaves the old rules in force, and the next owner
    // backfills again (it replaces the keys' data, so never counts twice).
    const filled = plan ? await backfill(partition, o, rules, plan, at) : undefined;
    const warming = warmingAfterSwitch(o.rules, rules, at, o.warming, filled?.since, { oldestClock: filled?.oldestClock, futureSkewMs: deps.maxFutureSkewMs });
    // Where the input stood at the switch: the later of this owner's last applied batch and
    // the offset the committed states record they applied up to. A new owner that has applied
    // nothing yet has only the record; one whose batches were records delivered again (its
    // predecessor committed their states but not their offsets) is behind the record: those
    // records were applied under the old rules, and their copies decide nothing (the engine's
    // `applyEvents`). A batch that stored nothing records nothing: then the batch is later.
    const nextOffset = laterOffset(progress.get(partition)?.nextOffset ?? null, await o.store.appliedOffset());
    const point = { nextOffset, timersUntil: Number.isFinite(o.firedUntil) ? o.firedUntil : null };
    await fenced(partition, () => o.store.rules.switchTo(target, rules.version, at, warming, point));
    showWarming(partition, warming);
    logger.info({ partition, from: o.seq, fromVersion: o.rules.version, to: target, rulesVersion: rules.version }, 'rules switched; sweeping customers');
    Object.assign(o, { seq: target, rules, cursor: '0', switchedAt: at, warming, warmingUntil: warmingMap(warming) });
    cache.drop(partition); // states were decoded for the old rules' plan
    metrics.rulesPartitionSeq.set({ partition: String(partition) }, target);
    metrics.rulesSweepActive.set({ partition: String(partition) }, 1);
  }

  /**
   * Fills the storage keys `plan` adds from the partition's retained input history, before
   * the switch to `rules`: reads the history from one longest window before the earlier of
   * `at` and the oldest customer clock (all of it for a lifetime feature; `backfillSince`)
   * up to the offset the states have applied (recorded by each batch
   * commit), folds each customer's events into only those keys as live processing would
   * have, then puts the result in every stored state of the partition (SCAN; a customer
   * with no event in the history gets the keys emptied) through the fenced commit, with no
   * decision: the sweep that follows decides, under the new rules. Runs under the
   * partition's mutex, so its live events wait until it is done (bounded by the history's
   * size); other partitions go on. Returns how far back the history reached and the oldest
   * customer clock (see {@link warmingAfterSwitch}).
   */
  async function backfill(partition: number, o: Owned, rules: CompiledRules, plan: BackfillPlan, at: number): Promise<{ since: number; oldestClock: number | undefined }> {
    let release!: () => void;
    const entry = { done: new Promise<void>((r) => (release = r)), events: 0, customers: 0, passes: 0, startedAt: at };
    backfills.set(partition, entry);
    metrics.rulesBackfillActive.set({ partition: String(partition) }, 1);
    const t0 = now();
    try {
      const until = await o.store.appliedOffset();
      const io: BackfillIo<HistoryReach> = {
        readHistory: (sinceMs, keep, onEvents) =>
          deps.history!({ partition, sinceMs, until }, async (records) => {
            await onEvents((await decodeCustomerHistory(deps.registry, records, keep)).map(toEngineEvent));
            entry.events += records.length;
            metrics.rulesBackfillEvents.inc(records.length);
          }),
        scanCustomers: (cursor) => o.store.scanCustomers(cursor, 1000),
        clocks: async (customers) => [...(await o.store.load([...customers])).values()].flatMap((s) => (s.state ? [decodeState(s.state).c] : [])),
        apply: async (customers, folds) => {
          const stored = await o.store.load([...customers]);
          const items: CommitItem[] = [];
          for (const customerId of customers) {
            const s = stored.get(customerId)!;
            if (!s.state) continue;
            const state = decodeState(s.state);
            if (!mergeBackfill(state, folds.get(customerId), rules, plan.keys)) continue;
            // The layout it had: a state holding its ids (layout 2) keeps them.
            items.push({ customerId, expectedVersion: s.version, state: encodeState(state, idEntries(state).length > 0 ? undefined : { idsApart: true }), dueAt: s.dueAt });
          }
          if (items.length) await fenced(partition, () => o.store.commit(items));
          entry.customers += items.length;
        },
      };
      const run = await runBackfill(io, rules, plan, { at, futureSkewMs: deps.maxFutureSkewMs, maxCustomers: deps.backfillMaxCustomers, onPass: () => entry.passes++ });
      const { reach } = run;
      logger.info(
        {
          partition,
          rulesVersion: rules.version,
          events: entry.events,
          customers: entry.customers,
          passes: run.passes,
          peakCustomers: run.peakCustomers,
          since: run.sinceMs === null ? null : new Date(run.sinceMs).toISOString(),
          from: reach.from,
          to: reach.end,
          complete: reach.since === Number.NEGATIVE_INFINITY,
          ms: now() - t0,
        },
        'features backfilled from history',
      );
      return { since: reach.since, oldestClock: run.oldestClock };
    } finally {
      cache.drop(partition);
      backfills.delete(partition);
      metrics.rulesBackfillActive.set({ partition: String(partition) }, 0);
      release();
    }
  }

  /** Features warming up per partition, as metrics (the previous ones of the partition removed). */
  const shownWarming = new Map<number, string[]>();
  function showWarming(partition: number, warming: readonly WarmingFeature[]): void {
    for (const feature of shownWarming.get(partition) ?? []) metrics.rulesFeatureWarmUntil.remove({ partition: String(partition), feature });
    for (const w of warming) metrics.rulesFeatureWarmUntil.set({ partition: String(partition), feature: w.feature }, w.until === null ? Number.POSITIVE_INFINITY : w.until / 1000);
    shownWarming.set(partition, warming.map((w) => w.feature));
  }

  /**
   * One round of the partition's re-evaluation sweep: as many customers as the shared rate
   * budget allows, from the saved SCAN cursor, each evaluated under the rules in force at
   * its own clock, committed like any other decision (cause RULES_CHANGED), then the cursor
   * saved. A crash between the two repeats the round, and `reevaluate` skips the customers
   * already under the new version: no decision twice.
   */
  async function sweep(partition: number, o: Owned): Promise<void> {
    const allowed = rollout.sweepAllowance(SWEEP_ROUND);
    if (allowed === 0) return;
    let cursor = o.cursor ?? '0';
    const found = new Set<string>();
    // SCAN's COUNT is a number of keys looked at (all partitions'), not of matches.
    for (let i = 0; i < 50 && found.size < allowed; i++) {
      const step = await o.store.scanCustomers(cursor, allowed * 4);
      for (const c of step.customers) found.add(c);
      cursor = step.cursor;
      if (cursor === '0') break;
    }
    const customers = [...found];
    const stored = await loadStates(partition, o.store, customers);
    const cause = { kind: 'RULES_CHANGED' as const, eventId: null, eventType: null, eventOccurredAt: o.switchedAt };
    const plans: Plan[] = [];
    for (const customerId of customers) {
      const s = stored.get(customerId)!;
      if (!s.state) continue;
      const before = heldBefore(s);
      const result = reevaluate(s.state, o.rules, { inPlace: true, warming: o.warmingUntil });
      if (!result) continue;
      plans.push({ customerId, loaded: s, outcome: outcomeOf([{ result, cause }], undefined, IDS_APART)!, before });
    }
    await commitAndPublish(partition, o, plans);
    const done = cursor === '0';
    await fenced(partition, () => o.store.rules.progress(done ? '' : cursor, customers.length));
    metrics.rulesSweptCustomers.inc(plans.length);
    o.cursor = done ? null : cursor;
    if (done) {
      metrics.rulesSweepActive.set({ partition: String(partition) }, 0);
      logger.info({ partition, rulesVersion: o.rules.version }, 'rules sweep done');
    }
  }

  /** Drops the population series of a partition this member no longer owns. */
  function unexport(partition: number): void {
    const labels = exported.get(partition);
    if (!labels) return;
    const p = String(partition);
    for (const label of labels) metrics.labelPopulation.remove({ label, partition: p });
    metrics.unlabelledCustomers.remove({ partition: p });
    exported.delete(partition);
  }

  /**
   * Sets the population gauges from the counters of the partitions this member owns (and
   * only those: each partition has one owner, so `sum by (label)` over all evaluators counts
   * every customer once). Runs at each scrape; a failed read keeps the last figures, and so
   * does a scrape while Redis is unreachable (its commands would wait for the reconnect and
   * hold the scrape).
   */
  async function refreshPopulation(): Promise<void> {
    const mine = [...claimed];
    for (const p of [...exported.keys()]) if (!claimed.has(p)) unexport(p);
    if (deps.redis.status !== 'ready') return;
    try {
      const counts = await Promise.all(mine.map((p) => readPopulation(deps.redis, new PartitionKeys(deps.keyPrefix, p))));
      mine.forEach((p, i) => {
        if (!claimed.has(p)) return; // revoked while reading
        const { labels, none } = counts[i]!;
        const partition = String(p);
        const names = exported.get(p) ?? new Set<string>();
        for (const label of names) if (!labels.has(label)) metrics.labelPopulation.remove({ label, partition });
        for (const [label, n] of labels) metrics.labelPopulation.set({ label, partition }, n);
        metrics.unlabelledCustomers.set({ partition }, none);
        exported.set(p, new Set(labels.keys()));
      });
    } catch (err) {
      logger.warn({ err }, 'reading the population counters failed; the gauges keep their last values');
    }
  }
  metrics.onCollectPopulation(refreshPopulation);

  function tick(): void {
    if (stopped) return;
    const work = [...assigned].filter((p) => !timerRuns.has(p)).map(async (p) => {
      timerRuns.add(p);
      try {
        await runTimers(p);
      } catch (err) {
        metrics.errors.inc({ code: (err as { code?: string }).code ?? 'TIMER_FAILED' });
        logger.warn({ err, partition: p }, 'timer run failed; will retry');
      } finally {
        timerRuns.delete(p);
      }
    });
    // The next tick does not wait for a long run (a backfill): the partitions that are done
    // go on firing their timers; `timerRuns` keeps one run per partition at a time.
    void Promise.race([Promise.all(work), new Promise((resolve) => setTimeout(resolve, deps.timerPollMs).unref())]).finally(() => {
      if (!stopped) timer = setTimeout(tick, deps.timerPollMs);
    });
  }

  return {
    init,
    handleBatch,
    /** Called with the member's assignment after every rebalance. */
    onAssignment(assignment: Record<string, number[]>): void {
      const next = new Set(assignment[deps.topics.customerEvents] ?? []);
      for (const p of owned.keys()) if (!next.has(p)) owned.delete(p);
      for (const p of claimed) if (!next.has(p)) claimed.delete(p);
      for (const p of settled.keys()) if (!next.has(p)) settled.delete(p);
      for (const p of [...exported.keys()]) if (!next.has(p)) unexport(p);
      cache.retain(next);
      for (const p of undelivered) if (!next.has(p)) undelivered.delete(p); // the new owner drains it
      // Others may have moved a partition on while it was not ours: learn its progress afresh.
      for (const p of [...progress.keys()]) if (!next.has(p) || !assigned.has(p)) progress.delete(p);
      assigned = next;
      for (const p of next) own(p).catch((err: unknown) => logger.warn({ err, partition: p }, 'claiming partition failed; will retry'));
    },
    startTimers(): void {
      stopped = false;
      timer = setTimeout(tick, deps.timerPollMs);
    },
    stopTimers(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    ownedPartitions: () => [...claimed].sort((a, b) => a - b),
    /**
     * The rules in force for `partition`: those of the owner's view when this instance owns
     * it, else the sequence recorded in Redis (what its owner decides with).
     */
    rulesOf: async (partition: number): Promise<{ rules: CompiledRules; warming: readonly WarmingFeature[] }> => {
      const mine = settled.get(partition);
      if (mine) return mine;
      const p = deps.rulesChannel ? await deps.rulesChannel.partition(partition) : { seq: 0, warming: [] };
      return { rules: await rollout.rules(p.seq), warming: p.warming };
    },
    /** For `/readyz`: the newest published rules and, per owned partition, the sequence in force and whether it is sweeping. */
    rulesStatus: () => {
      const partitions: Record<string, { seq: number; version: string; sweeping: boolean; backfill?: { events: number; customers: number; passes: number; since: string } }> = {};
      for (const p of [...claimed].sort((a, b) => a - b)) {
        const o = settled.get(p);
        const b = backfills.get(p);
        if (o) partitions[p] = { seq: o.seq, version: o.rules.version, sweeping: o.cursor !== null, ...(b ? { backfill: { events: b.events, customers: b.customers, passes: b.passes, since: new Date(b.startedAt).toISOString() } } : {}) };
      }
      return { published: rollout.published(), partitions };
    },
    /** Partitions assigned to this member but not taken over yet (claim and outbox drain pending). */
    pendingPartitions: () => [...assigned].filter((p) => !claimed.has(p)).sort((a, b) => a - b),
  };
}

export type Evaluator = ReturnType<typeof createEvaluator>;
