import { createConsumerRunner, groupMembershipLoss, sleep, type ConsumerRunner, type ConsumerRunnerOptions } from '@labelstream/kafka';

export interface ResilientRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  status(): Record<string, unknown>;
  /** Set once the consumer stopped for good (not a lost membership). */
  fatal(): string | undefined;
  /** Commits through the current consumer; a lost membership is rethrown as the plain Kafka error, which kafkajs answers by rejoining. */
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
}

/**
 * A consumer runner that survives losing its group membership. When a member is expelled
 * (paused past its session timeout) while holding a batch, the runner's commit fails with
 * UNKNOWN_MEMBER_ID, which kafkajs reports as a crash it will not restart from. The work
 * is safe — nothing was committed, the next owner redoes it — so this builds a fresh
 * consumer and rejoins. Any other permanent crash is handed to `onFatal`.
 */
export function createResilientRunner(opts: ConsumerRunnerOptions & { onFatal: (err: Error) => void }): ResilientRunner {
  const { onFatal, ...runnerOpts } = opts;
  const logger = opts.logger;
  let runner: ConsumerRunner | undefined;
  let stopping = false;
  let restarts = 0;
  let fatal: string | undefined;

  function build(): ConsumerRunner {
    const r = createConsumerRunner(runnerOpts);
    r.consumer.on(r.consumer.events.CRASH, (e) => {
      if (e.payload.restart || stopping || r !== runner) return;
      const err = e.payload.error as Error;
      if (groupMembershipLoss(err)) {
        restarts++;
        logger.warn({ err, restarts }, 'lost group membership (expelled while holding a batch): rejoining with a new consumer');
        void restart(r);
      } else {
        fatal = err?.message ?? 'crashed';
        onFatal(err);
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
      fatal = (err as Error).message;
      onFatal(err as Error);
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
    status: () => ({ ...(runner?.status() ?? { started: false }), restarts, ...(fatal ? { fatal } : {}) }),
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
