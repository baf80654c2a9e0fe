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
  it('hands a backlog over in slices of at most maxBatchMessages, committing after each; a failed slice alone is retried', async () => {
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
      // Each call starts where the committed offset stands: the slices before it were committed.
      for (const c of calls) expect(c.committed === -1 ? 0 : c.committed).toBe(c.first);
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
});
