/**
 * The fault schedule: one chain per service (SIGKILL a random instance at a random moment,
 * start a replacement, wait until it is ready, pause, again) and one chain of
 * infrastructure faults (Redis kill -9, evaluator 1 → 3 → 1, broker restart) in random
 * order. Service chains run concurrently; an infrastructure fault waits until no other
 * fault is in progress and holds the others off while it runs; and every fault waits until
 * ingest and the evaluator have caught up with the stream, so the longest delay an event
 * can see stays bounded (RELIABILITY.md, "Exactness").
 */
import type { Rng } from '@labelstream/generator';
import type { Fleet, ServiceName } from './fleet';
import type { PrivateStack } from './private-stack';

export type FaultKind = 'kill-ingest' | 'kill-evaluator' | 'kill-publisher' | 'redis-kill9' | 'redis-failover' | 'scale-evaluator' | 'broker-restart' | 'rules-deploy';

/** The run's Redis as a fault target: one server (kill -9 and restart) or a cluster (kill -9 of a master, failover). */
export interface RedisUnderFault {
  readonly faultKind: 'redis-kill9' | 'redis-failover';
  /** Injects one fault and resolves once Redis is whole again, with what happened. */
  injectFault(rng: Rng): Promise<string>;
}

export interface FaultRecord {
  kind: FaultKind;
  startedAt: number;
  /** Until the pipeline was whole again (replacement ready, Redis answering, broker up). */
  recoveredAt: number;
  detail: string;
  /** SIGTERM stops of the fault (evaluators leaving on scale-down): exit code, time, whether SIGKILL was needed. */
  stops?: Array<{ id: string; code: number | string; ms: number; forced: boolean }>;
}

export interface ChaosPlan {
  kills: Record<ServiceName, number>;
  redisKills: number;
  scaleCycles: number;
  brokerRestarts: number;
  gapMs: { min: number; max: number };
  /** A rules deploy with an evaluator SIGKILL during its sweep (rules-deploy.ts), run as one more infrastructure fault. */
  rulesDeploy?: () => Promise<string>;
}

export interface ChaosDeps {
  fleet: Fleet;
  redis: RedisUnderFault;
  stack: PrivateStack | undefined;
  rng: Rng;
  log: (line: string) => void;
  /**
   * Resolves once ingest and the evaluator have (nearly) caught up with their input. Every
   * fault waits for it, so stalls do not stack up into a delay longer than the event-time
   * lead (RELIABILITY.md, "Exactness"); faults still land at random moments of the stream.
   */
  caughtUp: () => Promise<void>;
}

/** Shared for service faults, exclusive for infrastructure faults (which go first when waiting). */
class FaultLock {
  private shared = 0;
  private exclusive = false;
  private exclusiveWaiting = 0;
  private waiters: Array<() => void> = [];

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(ok: () => boolean): Promise<void> {
    while (!ok()) await new Promise<void>((r) => this.waiters.push(r));
  }

  async run<T>(mode: 'shared' | 'exclusive', work: () => Promise<T>): Promise<T> {
    if (mode === 'shared') {
      await this.until(() => !this.exclusive && this.exclusiveWaiting === 0);
      this.shared++;
    } else {
      this.exclusiveWaiting++;
      await this.until(() => !this.exclusive && this.shared === 0);
      this.exclusiveWaiting--;
      this.exclusive = true;
    }
    try {
      return await work();
    } finally {
      if (mode === 'shared') this.shared--;
      else this.exclusive = false;
      this.wake();
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs every fault of the plan; resolves with what happened, in order of start. */
export async function runChaos(plan: ChaosPlan, deps: ChaosDeps): Promise<FaultRecord[]> {
  const { fleet, redis, stack, rng, log } = deps;
  const lock = new FaultLock();
  const records: FaultRecord[] = [];
  const gap = () => sleep(rng.int(plan.gapMs.min, plan.gapMs.max));
  const record = async (kind: FaultKind, mode: 'shared' | 'exclusive', work: () => Promise<string | { detail: string; stops: FaultRecord['stops'] }>) =>
    lock.run(mode, async () => {
      const startedAt = Date.now();
      const done = await work();
      const r: FaultRecord = { kind, startedAt, recoveredAt: Date.now(), ...(typeof done === 'string' ? { detail: done } : done) };
      records.push(r);
      log(`fault ${kind}: ${r.detail} (whole again after ${((r.recoveredAt - startedAt) / 1000).toFixed(1)} s)`);
    });

  const killChain = async (name: ServiceName, count: number) => {
    for (let i = 0; i < count; i++) {
      await gap();
      await deps.caughtUp();
      await record(`kill-${name}` as FaultKind, 'shared', async () => {
        const victims = fleet.running(name);
        const victim = victims[rng.int(0, victims.length - 1)]!;
        await fleet.kill(victim);
        const next = await fleet.start(name);
        return `SIGKILL ${victim.id} (pid ${victim.child.pid}), replaced by ${next.id}`;
      });
    }
  };

  const infra: Array<() => Promise<void>> = [];
  for (let i = 0; i < plan.redisKills; i++) {
    infra.push(() =>
      record(redis.faultKind, 'exclusive', () => redis.injectFault(rng)),
    );
  }
  for (let i = 0; i < plan.scaleCycles; i++) {
    infra.push(() =>
      record('scale-evaluator', 'exclusive', async () => {
        const added = await Promise.all([fleet.start('evaluator'), fleet.start('evaluator')]);
        await sleep(rng.int(8_000, 20_000));
        const running = fleet.running('evaluator');
        const leaving = [running[rng.int(0, running.length - 1)]!];
        const rest = running.filter((p) => p !== leaving[0]);
        leaving.push(rest[rng.int(0, rest.length - 1)]!);
        const stops = await Promise.all(leaving.map((p) => fleet.stop(p, 20_000)));
        const n = running.length - 2;
        return {
          detail: `evaluator ${n} → ${n + 2} (+${added.map((p) => p.id).join(', ')}) → ${n} (SIGTERM ${leaving.map((p, i) => `${p.id}: exit ${stops[i]!.code} in ${stops[i]!.ms} ms`).join(', ')})`,
          stops: leaving.map((p, i) => ({ id: p.id, ...stops[i]! })),
        };
      }),
    );
  }
  for (let i = 0; i < plan.brokerRestarts && stack; i++) {
    infra.push(() =>
      record('broker-restart', 'exclusive', async () => {
        await stack.restartBroker(rng.int(1000, 5000));
        return 'Kafka broker stopped (SIGTERM) and started again';
      }),
    );
  }
  if (plan.rulesDeploy) {
    const deploy = plan.rulesDeploy;
    infra.push(() => record('rules-deploy', 'exclusive', deploy));
  }
  // Random order, spread over the run.
  for (let i = infra.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [infra[i], infra[j]] = [infra[j]!, infra[i]!];
  }
  const infraChain = async () => {
    for (const f of infra) {
      await gap();
      await gap();
      await deps.caughtUp();
      await f();
    }
  };

  await Promise.all([killChain('ingest', plan.kills.ingest), killChain('evaluator', plan.kills.evaluator), killChain('publisher', plan.kills.publisher), infraChain()]);
  return records.sort((a, b) => a.startedAt - b.startedAt);
}
