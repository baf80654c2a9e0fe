/**
 * The consumer runner against the real Kafka: a backlog fetch is handed to the handler in
 * slices, each committed before the next, and a failing slice is retried alone.
 */
import { Writable } from 'node:stream';
import { AdapterError, createBacklogProbe, createConsumerRunner, createKafka, type ConsumerRunner } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import { connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
});

const silent = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('consumer runner', () => {
  it.each([
    [0, 'after each slice'],
    [60_000, 'once, after the fetched batch (commitIntervalMs not reached)'],
  ])('hands a backlog over in slices of at most maxBatchMessages, committing with commitIntervalMs %i %s; a failed slice alone is retried', async (commitIntervalMs) => {
    const topic = uniqueName('it-runner');
    const groupId = uniqueName('it-runner-g');
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [{ topic, partitions: 1 }]);
    // The backlog is there before the runner starts, so its first fetch holds all of it.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 250 }, (_, i) => ({ key: 'k', value: String(i) })) });
    await producer.disconnect();

    // The backlog probe sees the group behind (nothing committed yet, 250 to read).
    const probe = createBacklogProbe(kafka, groupId, topic);
    expect(await probe.behind([0])).toEqual(new Map([[0, true]]));

    const calls: Array<{ first: number; last: number; committed: number }> = [];
    let failedOnce = false;
    let runner: ConsumerRunner | undefined;
    const logger = createLogger({ service: 'runner-it', level: 'warn', destination: silent() });
    try {
      runner = createConsumerRunner({
        kafka: createKafka({ brokers: env.kafkaBrokers, clientId: uniqueName('runner-it') }, logger),
        groupId,
        topics: [topic],
        logger,
        metrics: createMetrics('runner_it', { defaultMetrics: false }),
        maxBatchMessages: 40,
        commitIntervalMs,
        sessionTimeoutMs: 10_000,
        shutdownTimeoutMs: 5000,
        handler: async (batch) => {
          const offsets = batch.messages.map((m) => Number(m.offset));
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          calls.push({ first: offsets[0]!, last: offsets[offsets.length - 1]!, committed: Number(committed!.partitions[0]!.offset) });
          expect(batch.messages.map((m) => Number(m.value!.toString()))).toEqual(offsets); // in order, no gap
          if (offsets[0] === 120 && !failedOnce) {
            failedOnce = true;
            throw new AdapterError('TEST_OUTAGE', 'injected outage', true);
          }
        },
      });
      await runner.start();
      await waitFor('all 250 messages handled and committed', async () => {
        const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return Number(c!.partitions[0]!.offset) === 250;
      }, { timeoutMs: 60_000 });

      expect(Math.max(...calls.map((c) => c.last - c.first + 1))).toBe(40);
      if (commitIntervalMs === 0) {
        // Each call starts where the committed offset stands: the slices before it were committed.
        for (const c of calls) expect(c.committed === -1 ? 0 : c.committed).toBe(c.first);
      } else {
        // One fetched batch, one commit at its end: no slice saw an earlier one committed.
        for (const c of calls) expect(c.committed).toBe(-1);
      }
      // Every offset handled once, except the failed slice, handled twice.
      const handled = calls.flatMap((c) => Array.from({ length: c.last - c.first + 1 }, (_, i) => c.first + i));
      expect(handled.length).toBe(250 + calls.find((c) => c.first === 120)!.last - 120 + 1);
      expect(new Set(handled).size).toBe(250);
      expect(calls.filter((c) => c.first === 120)).toHaveLength(2);
      // Caught up: the probe says so; and for a partition nobody has consumed, it compares with the start.
      expect(await probe.behind([0])).toEqual(new Map([[0, false]]));
      const empty = createBacklogProbe(kafka, uniqueName('it-runner-g'), topic);
      expect(await empty.behind([0, 7])).toEqual(new Map([[0, true]])); // no partition 7: not reported
      await empty.close();
    } finally {
      await probe.close();
      await runner?.stop();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  /**
   * Runs a runner whose handler fails on the message "poison" of a 3-message topic, and
   * waits for the consumer to stop for good (kafkajs CRASH with restart: false, which the
   * services answer by exiting). Returns what the runner logged, the crash and how often
   * the handler ran.
   */
  async function runUntilCrash(fail: () => never, retry?: { maxAttempts?: number; budgetMs?: number }) {
    const topic = uniqueName('it-runner-fail');
    const groupId = uniqueName('it-runner-fail-g');
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [{ topic, partitions: 1 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['ok', 'poison', 'ok'].map((value) => ({ key: 'k', value })) });
    await producer.disconnect();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      service: 'runner-it',
      level: 'warn',
      destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), cb()) }),
    });
    let calls = 0;
    let runner: ConsumerRunner | undefined;
    try {
      runner = createConsumerRunner({
        kafka: createKafka({ brokers: env.kafkaBrokers, clientId: uniqueName('runner-it') }, logger),
        groupId,
        topics: [topic],
        logger,
        metrics: createMetrics('runner_it', { defaultMetrics: false }),
        sessionTimeoutMs: 10_000,
        shutdownTimeoutMs: 5000,
        ...(retry ? { retry } : {}),
        handler: async (batch) => {
          calls++;
          if (batch.messages.some((m) => m.value?.toString() === 'poison')) fail();
        },
      });
      const crashes: Array<{ restart: boolean; error: Error }> = [];
      runner.consumer.on(runner.consumer.events.CRASH, (e) => crashes.push({ restart: e.payload.restart, error: e.payload.error }));
      const started = Date.now();
      await runner.start();
      await waitFor('the consumer to crash for good', () => crashes.some((c) => !c.restart), { timeoutMs: 60_000 });
      const elapsedMs = Date.now() - started;
      // It stays stopped: no restart, no further handler call, not ready.
      const callsAtCrash = calls;
      await new Promise((r) => setTimeout(r, 1500));
      expect(calls).toBe(callsAtCrash);
      expect(crashes.every((c) => !c.restart)).toBe(true);
      expect(runner.isReady()).toBe(false);
      // Nothing was committed: the restarted process re-reads the batch.
      const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(Number(c!.partitions[0]!.offset)).toBe(-1);
      return { lines, calls, elapsedMs, status: runner.status() };
    } finally {
      await runner?.stop();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  }

  it('stops for good on a programming error in the handler, at once, with one fatal log line', async () => {
    const { lines, calls, status } = await runUntilCrash(() => {
      const batch = undefined as unknown as { messages: unknown[] };
      throw new TypeError(`Cannot read properties of undefined (reading 'messages') ${String(batch)}`);
    });
    expect(calls).toBe(1); // not retried
    const fatal = lines.filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/batch of it-runner-fail-.*\/0 failed with an error no retry can fix: TypeError: Cannot read properties of undefined/);
    expect(fatal[0]).toMatchObject({ code: 'BATCH_FAILED', reason: 'NOT_RETRIABLE', partition: 0, attempts: 1, firstOffset: '0' });
    expect(lines.filter((l) => l.msg === 'consumer crashed')).toEqual([]);
    expect(status).toMatchObject({ failed: { reason: 'NOT_RETRIABLE' } });
  });

  it('stops for good once a retriable failure outlasts the retry bound', async () => {
    const { lines, calls } = await runUntilCrash(() => {
      throw new AdapterError('TEST_OUTAGE', 'injected outage that never ends', true);
    }, { maxAttempts: 4 });
    expect(calls).toBe(4);
    expect(lines.filter((l) => l.msg === 'retriable error; retrying batch')).toHaveLength(3);
    const fatal = lines.filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/still failed after 4 attempts .*AdapterError \[TEST_OUTAGE\]: injected outage/);
  });

  it('stops for good once a retriable failure outlasts the retry time budget', async () => {
    const { calls, elapsedMs } = await runUntilCrash(() => {
      throw new AdapterError('TEST_OUTAGE', 'injected outage that never ends', true);
    }, { budgetMs: 1500 });
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(elapsedMs).toBeLessThan(30_000);
  });
});
