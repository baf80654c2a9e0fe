/**
 * A backlog of decisions on six partitions, drained by one publisher, then a steady
 * stream: every decision is published exactly once and every streamed one is in the
 * latency histogram. The throughput and latency it prints are for reading, not asserted:
 * speed belongs in the benchmarks (`pnpm bench`), a loaded CI machine must not fail here.
 */
import { createKafka, Registry } from '@labelstream/kafka';
import { connectStack, testKafka, type StackEnv } from '@labelstream/testkit';
import { createPublisher } from '../../services/publisher/src';
import { createDecisionTopics, DecisionWriter, FakeEvaluator, testLogger, testMetrics, testTopics, waitForCaughtUp } from '../../services/publisher/test-support';
import { expectExactlyOnce, metricValue } from '../../services/publisher/test-support/assertions';

jest.setTimeout(180_000);

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
});

it('drains a backlog of 30 000 decisions (≈1.7 label events each) and a steady stream, each exactly once', async () => {
  const kafka = testKafka(env);
  const admin = kafka.admin();
  await admin.connect();
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const topics = testTopics('it-pub-tput');
  const partitions = 6;
  await createDecisionTopics(admin, topics, partitions);
  const writer = new DecisionWriter(kafka, registry, topics.decisions);
  await writer.connect();
  const evaluator = new FakeEvaluator(partitions, 500, 1234);
  const total = 30_000;
  const decisions = evaluator.many(total);
  for (let i = 0; i < total; i += 2000) await writer.send(decisions.slice(i, i + 2000));
  const logger = testLogger();
  const metrics = testMetrics();
  const groupId = `${topics.decisions}-publisher`;
  const publisher = createPublisher({
    kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'publisher-tput' }, logger),
    registry: new Registry({ url: env.schemaRegistryUrl }),
    logger,
    metrics,
    topics,
    groupId,
    topicDefaults: { partitions, replicationFactor: 1 },
  });
  try {
    const t0 = performance.now();
    await publisher.start();
    await waitForCaughtUp(admin, groupId, topics.decisions, 150_000);
    const seconds = (performance.now() - t0) / 1000;
    const events = await metricValue(metrics, 'labelstream_label_changes_total');
    console.log(`publisher throughput: ${total} decisions / ${events} events in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} decisions/s (${Math.round(events / seconds)} events/s), start-up and group join included`);

    // Then a steady stream (≈1000 decisions/s for 5 s): end-to-end latency from the
    // decision's cause time to the publish acknowledgement, from the publisher's histogram.
    metrics.endToEndLatency.reset();
    const streamed = [];
    for (let tick = 0; tick < 100; tick++) {
      const batch = Array.from({ length: 50 }, (_, i) => evaluator.next((tick * 50 + i) % partitions, { at: Date.now() }));
      streamed.push(...batch);
      await writer.send(batch);
      await new Promise((r) => setTimeout(r, 40));
    }
    await waitForCaughtUp(admin, groupId, topics.decisions, 60_000);
    const hist = (await metrics.endToEndLatency.get()).values
      .filter((v) => v.metricName?.endsWith('_bucket') && v.labels.cause === 'EVENT')
      .map((v) => ({ value: v.value, labels: v.labels as { le?: string | number } }));
    const count = hist.find((v) => v.labels.le === '+Inf')!.value;
    const quantile = (q: number) => hist.find((v) => v.value >= q * count)!.labels.le;
    console.log(`publisher latency, steady ${streamed.length} decisions at ~1000/s: p50 <= ${quantile(0.5)} s, p99 <= ${quantile(0.99)} s (histogram bucket bounds; includes the decision writer's own produce)`);
    expect(count).toBe(streamed.length);
    await expectExactlyOnce(kafka, registry, topics.labelEvents, [...decisions, ...streamed]);
  } finally {
    await publisher.stop();
    await writer.disconnect();
    await admin.disconnect();
  }
});
