import { sleep } from './backoff';
import { createConsumerRunner, type ConsumerRunner, type ConsumerRunnerOptions } from './consumer';
import { groupMembershipLoss } from './membership';

export interface ResilientRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  assignment(): Record<string, number[]>;
  status(): Record<string, unknown>;
  /** Set once the consumer stopped for good (not a lost membership). */
  fatal(): string | undefined;
  /** Commits through the current consumer; a lost membership is rethrown as the plain Kafka error, which kafkajs answers by rejoining. */
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
}

/** How often a member may re-join after losing its membership before that is fatal. */
export interface RejoinBounds {
  /** Re-joins allowed within `windowMs` (default 5). */
  max?: number;
  /** Default 10 minutes. */
  windowMs?: number;
}

export const DEFAULT_REJOIN_BOUNDS: Required<RejoinBounds> = Object.freeze({ max: 5, windowMs: 10 * 60_000 });

/**
 * Whether one more re-join is allowed at `now`, given the times of earlier ones: at most
 * `max` within any `windowMs`. Past that the member keeps getting expelled (handler too
 * slow for the session timeout, a broken coordinator): a restart, and an operator, do better.
 */
export function rejoinAllowed(earlier: readonly number[], now: number, bounds: RejoinBounds = {}): boolean {
  const { max, windowMs } = { ...DEFAULT_REJOIN_BOUNDS, ...bounds };
  return earlier.filter((t) => now - t < windowMs).length < max;
}

export type ResilientRunnerOptions = ConsumerRunnerOptions & {
  /** Told once when the consumer stops for good; the service's lifecycle drains and exits 1. */
  onFatal: (err: Error) => void;
  rejoin?: RejoinBounds;
};

/**
 * A consumer runner that survives losing its group membership — the one policy of the
 * three services. When a member is expelled (paused past its session timeout) while holding
 * a batch, the runner's commit fails with UNKNOWN_MEMBER_ID, which kafkajs reports as a
 * crash it will not restart from. The work is safe — nothing was committed, the next owner
 * redoes it — so this builds a fresh consumer and rejoins, at most `rejoin.max` times in
 * `rejoin.windowMs`. Any other permanent crash, or one re-join too many, goes to `onFatal`.
 */
export function createResilientRunner(opts: ResilientRunnerOptions): ResilientRunner {
  const { onFatal, rejoin, ...runnerOpts } = opts;
  const logger = opts.logger;
  let runner: ConsumerRunner | undefined;
  let stopping = false;
  const rejoins: number[] = [];
  let fatal: string | undefined;

  const giveUp = (err: Error): void => {
    if (fatal !== undefined) return;
    fatal = err?.message ?? 'crashed';
    onFatal(err);
  };

  function build(): ConsumerRunner {
    const r = createConsumerRunner(runnerOpts);
    r.consumer.on(r.consumer.events.CRASH, (e) => {
      if (e.payload.restart || stopping || r !== runner) return;
      const err = e.payload.error as Error;
      if (groupMembershipLoss(err) && rejoinAllowed(rejoins, Date.now(), rejoin)) {
        rejoins.push(Date.now());
        logger.warn({ err, restarts: rejoins.length }, 'lost group membership (expelled while holding a batch): rejoining with a new consumer');
        void restart(r);
      } else if (groupMembershipLoss(err)) {
        giveUp(new Error(`lost group membership ${rejoins.length + 1} times within ${(rejoin?.windowMs ?? DEFAULT_REJOIN_BOUNDS.windowMs) / 1000} s`, { cause: err }));
      } else {
        giveUp(err);
      }
    });
    return r;
  }

  async function restart(old: ConsumerRunner): Promise<void> {
    await old.stop().catch(() => undefined);
    await sleep(500);
    if (stopping) return;
    runner = build();
    try {
      await runner.start();
    } catch (err) {
      if (!stopping) giveUp(err as Error);
    }
  }

  return {
    async start() {
      runner = build();
      await runner.start();
    },
    async stop() {
      stopping = true;
      await runner?.stop();
    },
    isReady: () => !fatal && (runner?.isReady() ?? false),
    assignment: () => runner?.assignment() ?? {},
    status: () => ({ ...(runner?.status() ?? { started: false }), restarts: rejoins.length, ...(fatal ? { fatal } : {}) }),
    fatal: () => fatal,
    async commit(offsets) {
      try {
        await runner!.consumer.commitOffsets(offsets);
      } catch (err) {
        throw groupMembershipLoss(err) ?? err;
      }
    },
  };
}
