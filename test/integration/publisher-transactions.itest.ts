/**
 * The measurement behind the publisher's exactly-once choice (services/publisher/README.md,
 * "Why not Kafka transactions"): the same decisions → public records work done
 *   (a) the way the publisher does it — idempotent producer, two sends per batch, seq
 *       dedupe with the output tail as marker — and
 *   (b) as kafkajs consume–transform–produce transactions — one transactional producer
 *       per input partition (kafkajs has no KIP-447 group-metadata fencing), outputs and
 *       input offsets committed together per batch,
 * on the same broker, plus what an ordinary (read_uncommitted) consumer of the public
 * topic sees when a transaction aborts.
 */
import { COMPATIBILITY, customerLabelsSchema, customerLabelsType, labelDecisionType, labelEventSchema, labelEventType, subjectFor, type LabelDecision } from '@labelstream/contracts';
import { createKafka, Registry } from '@labelstream/kafka';
import { toPublicRecords } from '@labelstream/publishing';
import { connectStack, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { createPublisher } from '../../services/publisher/src';
import { createDecisionTopics, DecisionWriter, type Producer, FakeEvaluator, testLogger, testMetrics, testTopics, waitForCaughtUp } from '../../services/publisher/test-support';
import { expectExactlyOnce } from '../../services/publisher/test-support/assertions';

jest.setTimeout(240_000);

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
});

const PARTITIONS = 6;
const TOTAL = 12_000;

async function backlog(prefix: string) {
  const kafka = testKafka(env);
  const admin = kafka.admin();
  await admin.connect();
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const topics = testTopics(prefix);
  await createDecisionTopics(admin, topics, PARTITIONS);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.labelEvents, numPartitions: PARTITIONS, replicationFactor: 1 },
      { topic: topics.customerLabels, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ],
  });
  const writer = new DecisionWriter(kafka, registry, topics.decisions);
  await writer.connect();
  const evaluator = new FakeEvaluator(PARTITIONS, 300, 77);
  const decisions = evaluator.many(TOTAL);
  // Written as an evaluator drains its outbox: ~50 decisions per produce (one record batch
  // per partition each), so a small fetch really yields small batches.
  for (let i = 0; i < TOTAL; i += 300) await writer.send(decisions.slice(i, i + 300));
  await writer.disconnect();
  return { kafka, admin, registry, topics, decisions };
}

describe('exactly-once mechanisms compared (measurement)', () => {
  const results: string[] = [];
  afterAll(() => console.log(results.join('\n')));

  // 4 MiB fetches drain a backlog in a few huge batches; 16 KiB fetches (≈50 decisions)
  // approximate the steady state, where per-batch costs dominate.
  const FETCHES = [4 * 1024 * 1024, 16 * 1024];

  it.each(FETCHES)('(a) sequence dedupe with the output tail as marker, fetch %i bytes', async (fetchBytes) => {
    const { kafka, admin, registry, topics, decisions } = await backlog('it-eos-seq');
    const logger = testLogger();
    const groupId = `${topics.decisions}-publisher`;
    const publisher = createPublisher({ kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'eos-seq' }, logger), registry, logger, metrics: testMetrics(), topics, groupId, topicDefaults: { partitions: PARTITIONS, replicationFactor: 1 }, maxBytesPerPartition: fetchBytes });
    const t0 = performance.now();
    await publisher.start();
    await waitForCaughtUp(admin, groupId, topics.decisions, 200_000);
    const s = (performance.now() - t0) / 1000;
    results.push(`(a) seq dedupe,   fetch ${fetchBytes} B: ${TOTAL} decisions in ${s.toFixed(2)} s = ${Math.round(TOTAL / s)} decisions/s`);
    await publisher.stop();
    await expectExactlyOnce(kafka, registry, topics.labelEvents, decisions);
    await admin.disconnect();
  });

  it.each(FETCHES)('(b) kafkajs transactions, one transactional producer per input partition, fetch %i bytes', async (fetchBytes) => {
    const { kafka, admin, registry, topics, decisions } = await backlog('it-eos-txn');
    const [eventId, labelsId] = await Promise.all([
      registry.register(subjectFor(topics.labelEvents), labelEventSchema, COMPATIBILITY),
      registry.register(subjectFor(topics.customerLabels), customerLabelsSchema, COMPATIBILITY),
    ]);
    const encodeEvent = registry.encoder(eventId, labelEventType);
    const encodeLabels = registry.encoder(labelsId, customerLabelsType);
    const groupId = uniqueName('eos-txn');
    const producers = new Map<number, Producer>();
    const producerFor = async (p: number) => {
      let pr = producers.get(p);
      if (!pr) {
        pr = kafka.producer({ transactionalId: `${groupId}-p${p}`, idempotent: true, maxInFlightRequests: 1 });
        await pr.connect();
        producers.set(p, pr);
      }
      return pr;
    };
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: fetchBytes });
    let transactions = 0;
    const t0 = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.decisions], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const p = batch.partition;
        const labels = [];
        const events = [];
        for (const m of batch.messages) {
          const d = await registry.decode<LabelDecision>(m.value, labelDecisionType);
          const r = toPublicRecords(d, { publishedAt: Date.now() });
          labels.push({ key: r.key, value: encodeLabels(r.customerLabels), headers: r.headers, partition: p });
          for (const e of r.labelEvents) events.push({ key: r.key, value: encodeEvent(e), headers: r.headers, partition: p });
        }
        const tx = await (await producerFor(p)).transaction();
        try {
          await tx.send({ topic: topics.customerLabels, messages: labels, acks: -1 });
          await tx.send({ topic: topics.labelEvents, messages: events, acks: -1 });
          await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: batch.topic, partitions: [{ partition: p, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }] });
          await tx.commit();
          transactions++;
        } catch (err) {
          await tx.abort().catch(() => undefined);
          throw err;
        }
        resolveOffset(batch.lastOffset());
      },
    });
    try {
      await waitForCaughtUp(admin, groupId, topics.decisions, 200_000);
      const s = (performance.now() - t0) / 1000;
      results.push(`(b) transactions, fetch ${fetchBytes} B: ${TOTAL} decisions in ${s.toFixed(2)} s = ${Math.round(TOTAL / s)} decisions/s (${transactions} transactions)`);
      const events = await expectExactlyOnce(kafka, registry, topics.labelEvents, decisions, { transactional: true });
      // Each committed transaction leaves a control record in every partition it wrote:
      // offsets no longer count records, and the last offset is a marker, not data.
      const offsets = await admin.fetchTopicOffsets(topics.labelEvents);
      const records = events.length;
      const span = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      results.push(`    label-events: ${records} records over ${span} offsets (${span - records} transaction markers)`);
      expect(span).toBeGreaterThan(records);
    } finally {
      await consumer.disconnect();
      await Promise.all([...producers.values()].map((p) => p.disconnect()));
      await admin.disconnect();
    }
  });

  it('an aborted transaction is visible to a read_uncommitted consumer of the public topic', async () => {
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('it-eos-abort');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    const producer = kafka.producer({ transactionalId: uniqueName('eos-abort'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ key: 'c-1', value: 'LABEL_ASSIGNED vip (aborted)' }] });
    await tx.abort();
    const ok = await producer.transaction();
    await ok.send({ topic, messages: [{ key: 'c-1', value: 'LABEL_ASSIGNED vip' }] });
    await ok.commit();
    await producer.disconnect();

    const seen = async (readUncommitted: boolean) => {
      const values: string[] = [];
      const c = kafka.consumer({ groupId: uniqueName('eos-reader'), readUncommitted, maxWaitTimeInMs: 50 });
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
      await waitFor('the committed record', () => values.includes('LABEL_ASSIGNED vip'));
      await c.disconnect();
      return values;
    };
    expect(await seen(false)).toEqual(['LABEL_ASSIGNED vip']);
    expect(await seen(true)).toEqual(['LABEL_ASSIGNED vip (aborted)', 'LABEL_ASSIGNED vip']);
    results.push('(c) an aborted transaction’s record reaches read_uncommitted consumers (a duplicate/phantom change for them)');
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
