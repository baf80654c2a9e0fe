/**
 * The publisher in-process against the real stack: decisions in, registry-decodable public
 * label events and current-label sets out, in per-customer order, duplicates dropped
 * (also across a restart that lost its commits), bad input dead-lettered.
 */
import { DLQ_HEADERS, labelEventType, subjectFor, type LabelEvent } from '@labelstream/contracts';
import { createKafka, Registry } from '@labelstream/kafka';
import { connectStack, testKafka, waitFor, type StackEnv } from '@labelstream/testkit';
import { createPublisher, CoPartitioningError, type Publisher } from '../../services/publisher/src';
import {
  ConfigResourceTypes,
  createDecisionTopics,
  decodeAll,
  DecisionWriter,
  FakeEvaluator,
  header,
  readTopic,
  testLogger,
  testMetrics,
  testTopics,
  waitForCaughtUp,
} from '../../services/publisher/test-support';
import { expectCurrentSets, expectExactlyOnce, metricValue } from '../../services/publisher/test-support/assertions';

jest.setTimeout(120_000);

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
});

type Kafka = ReturnType<typeof testKafka>;

interface Harness {
  kafka: Kafka;
  registry: Registry;
  topics: ReturnType<typeof testTopics>;
  writer: DecisionWriter;
  admin: ReturnType<Kafka['admin']>;
  groupId: string;
  start: (extra?: { maxSendBytes?: number }) => Promise<{ publisher: Publisher; metrics: ReturnType<typeof testMetrics> }>;
  close: () => Promise<void>;
}

const running: Publisher[] = [];

async function harness(prefix: string, partitions: number): Promise<Harness> {
  const kafka = testKafka(env);
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const topics = testTopics(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await createDecisionTopics(admin, topics, partitions);
  const writer = new DecisionWriter(kafka, registry, topics.decisions);
  await writer.connect();
  const groupId = `${topics.decisions}-publisher`;
  const logger = testLogger();
  return {
    kafka,
    registry,
    topics,
    writer,
    admin,
    groupId,
    async start(extra = {}) {
      const metrics = testMetrics();
      const publisher = createPublisher({
        kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'publisher-itest' }, logger),
        registry: new Registry({ url: env.schemaRegistryUrl }),
        logger,
        metrics,
        topics,
        groupId,
        topicDefaults: { partitions, replicationFactor: 1 },
        shutdownTimeoutMs: 5000,
        ...extra,
      });
      running.push(publisher);
      await publisher.start();
      return { publisher, metrics };
    },
    async close() {
      await writer.disconnect();
      await admin.disconnect();
    },
  };
}

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((p) => p.stop()));
});

describe('publisher (in-process, real Kafka + registry)', () => {
  it('publishes decisions as registry-decodable events, in per-customer order, with each customer’s current set compacted', async () => {
    const h = await harness('it-pub', 3);
    try {
      const { publisher, metrics } = await h.start();
      await waitFor('publisher ready', () => publisher.isReady());
      const evaluator = new FakeEvaluator(3, 8, 7);
      const decisions = evaluator.many(300);
      for (let i = 0; i < decisions.length; i += 50) await h.writer.send(decisions.slice(i, i + 50));
      await waitForCaughtUp(h.admin, h.groupId, h.topics.decisions);

      const events = await expectExactlyOnce(h.kafka, h.registry, h.topics.labelEvents, decisions);
      // Decoded through the registry subject the publisher registered, fields as decided.
      const first = decisions[0]!;
      const e0 = events.find((e) => e.value.decisionId === first.decisionId)!.value;
      expect(e0).toMatchObject({ customerId: first.customerId, rulesVersion: 'test-rules@1', causeEventId: first.cause.eventId, effectiveAt: first.effectiveAt });
      expect(e0.features).toMatchObject({ tier: 'gold', flag: true, none: null });
      const subjects = (await (await fetch(`${env.schemaRegistryUrl}/subjects`)).json()) as string[];
      expect(subjects).toEqual(expect.arrayContaining([subjectFor(h.topics.labelEvents), subjectFor(h.topics.customerLabels)]));

      await expectCurrentSets(h.kafka, h.registry, h.topics.customerLabels, evaluator);
      const configs = await h.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: h.topics.customerLabels, configNames: ['cleanup.policy'] }] });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('compact');
      const meta = await h.admin.fetchTopicMetadata({ topics: [h.topics.labelEvents, h.topics.customerLabels] });
      expect(meta.topics.map((t) => t.partitions.length)).toEqual([3, 3]);

      expect(await metricValue(metrics, 'labelstream_label_changes_total')).toBe(events.length);
      expect(await metricValue(metrics, 'labelstream_dedupe_drops_total')).toBe(0);
      expect(await metricValue(metrics, 'labelstream_errors_total', { code: 'SEQ_GAP' })).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('drops a decision delivered twice, and older re-sends, so each change is published once', async () => {
    const h = await harness('it-pub-dup', 2);
    try {
      const { metrics } = await h.start();
      const evaluator = new FakeEvaluator(2, 5, 11);
      const decisions = evaluator.many(60);
      await h.writer.send(decisions.slice(0, 40));
      await h.writer.send(decisions.slice(0, 40)); // the whole prefix again (an evaluator crash before its commit)
      await h.writer.send([decisions[3]!, decisions[10]!]); // stragglers
      await h.writer.send(decisions.slice(40));
      await h.writer.send(decisions.slice(55)); // and the tail once more
      await waitForCaughtUp(h.admin, h.groupId, h.topics.decisions);
      await expectExactlyOnce(h.kafka, h.registry, h.topics.labelEvents, decisions);
      await expectCurrentSets(h.kafka, h.registry, h.topics.customerLabels, evaluator);
      expect(await metricValue(metrics, 'labelstream_dedupe_drops_total')).toBe(40 + 2 + 5);
    } finally {
      await h.close();
    }
  });

  it('restarted after losing its commits, re-reads the output tail and publishes neither duplicates nor gaps', async () => {
    const h = await harness('it-pub-restart', 3);
    try {
      const evaluator = new FakeEvaluator(3, 6, 3);
      const first = evaluator.many(90);
      const a = await h.start();
      await h.writer.send(first);
      await waitForCaughtUp(h.admin, h.groupId, h.topics.decisions);
      await a.publisher.stop();
      // As if every commit had been lost: the next owner is handed all decisions again.
      await h.admin.resetOffsets({ groupId: h.groupId, topic: h.topics.decisions, earliest: true });
      const second = evaluator.many(60);
      await h.writer.send(second);
      const b = await h.start();
      await waitForCaughtUp(h.admin, h.groupId, h.topics.decisions);
      await expectExactlyOnce(h.kafka, h.registry, h.topics.labelEvents, [...first, ...second]);
      await expectCurrentSets(h.kafka, h.registry, h.topics.customerLabels, evaluator);
      expect(await metricValue(b.metrics, 'labelstream_dedupe_drops_total')).toBe(first.length);
    } finally {
      await h.close();
    }
  });

  it('dead-letters undecodable and wrongly partitioned decisions without blocking the partition, and reports gaps', async () => {
    const h = await harness('it-pub-bad', 2);
    try {
      const { metrics } = await h.start();
      const evaluator = new FakeEvaluator(2, 4, 5);
      const before = evaluator.many(10);
      await h.writer.send(before);
      await h.writer.sendRaw(0, 'c-0-1', Buffer.from('{"not":"avro"}'));
      // A decision of source partition 0 that arrived on partition 1 (a misconfigured evaluator).
      await h.writer.sendTo(1, { ...before[0]!, seq: 999, decisionId: '0-999' });
      const after = evaluator.many(10);
      const skipped = after.find((d) => d.sourcePartition === 0)!; // a gap on partition 0
      const sent = after.filter((d) => d !== skipped);
      await h.writer.send(sent);
      await waitForCaughtUp(h.admin, h.groupId, h.topics.decisions);

      const dlq = await readTopic(h.kafka, h.topics.dlq);
      expect(dlq.map((r) => header(r, DLQ_HEADERS.reason)).sort()).toEqual(['PARTITION_MISMATCH', 'UNDECODABLE_DECISION']);
      const undecodable = dlq.find((r) => header(r, DLQ_HEADERS.reason) === 'UNDECODABLE_DECISION')!;
      expect(undecodable.value!.toString()).toBe('{"not":"avro"}');
      expect(header(undecodable, DLQ_HEADERS.sourceTopic)).toBe(h.topics.decisions);
      expect(header(undecodable, DLQ_HEADERS.sourcePartition)).toBe('0');
      const events = await decodeAll<LabelEvent>(h.registry, await readTopic(h.kafka, h.topics.labelEvents), labelEventType);
      const published = new Set(events.map((e) => e.value.decisionId));
      expect(published).toEqual(new Set([...before, ...sent].map((d) => d.decisionId)));
      expect(await metricValue(metrics, 'labelstream_errors_total', { code: 'SEQ_GAP' })).toBe(1);
      expect(await metricValue(metrics, 'labelstream_dlq_total')).toBe(2);
    } finally {
      await h.close();
    }
  });

  it('fails fast when the output topics are not co-partitioned with the decisions', async () => {
    const h = await harness('it-pub-copart', 3);
    try {
      await h.admin.createTopics({ topics: [{ topic: h.topics.labelEvents, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
      await expect(h.start()).rejects.toBeInstanceOf(CoPartitioningError);
      await expect(h.start()).rejects.toThrow(/same partition count.*=3.*=2/);
    } finally {
      await h.close();
    }
  });
});
