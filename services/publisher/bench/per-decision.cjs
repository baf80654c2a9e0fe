'use strict';
/**
 * CPU per decision of the publisher's own work, in process, without a broker: the built
 * `createPublisher` (services/publisher/dist) runs against an in-memory Kafka whose consumer
 * hands it pre-made batches of Confluent-framed decisions and whose producers take the
 * `sendBatch` calls. Everything of the publisher runs as in production — consumer runner,
 * sequence dedupe, decode, public records, Avro encode, metrics, chunking, the sends'
 * fencing — except the network.
 *
 *   node services/publisher/bench/per-decision.cjs [--decisions 60000] [--batch 400] [--kafkajs-encode] [--max-send-records n]
 *
 * `--kafkajs-encode` also runs kafkajs' own produce-request encoding (its internal modules,
 * as `sendBatch` would) on every send, to show what the client library adds per decision.
 * Prints µs of CPU (user + system) per decision. Build first (`pnpm build`).
 */
const path = require('node:path');
const ROOT = path.resolve(__dirname, '../../..');
const req = (p) => require(path.join(ROOT, p));
const { createPublisher } = req('services/publisher/dist/index.js');
const { Registry } = req('packages/kafka/dist/index.js');
const { createMetrics, createLogger } = req('packages/observability/dist/index.js');
const { labelDecisionSchema, labelDecisionType } = req('packages/contracts/dist/index.js');

const { values: flags } = require('node:util').parseArgs({
  options: {
    decisions: { type: 'string', default: '60000' },
    batch: { type: 'string', default: '400' },
    'kafkajs-encode': { type: 'boolean', default: false },
    'max-send-records': { type: 'string' },
  },
});
const DECISIONS = Number(flags.decisions);
const BATCH = Number(flags.batch);
const KAFKAJS_ENCODE = flags['kafkajs-encode'];
const MAX_SEND_RECORDS = flags['max-send-records'];
const PARTITIONS = 6;
const DECISION_SCHEMA_ID = 901;

const topics = { decisions: 'd', labelEvents: 'le', customerLabels: 'cl', dlq: 'dlq' };

// ---- kafkajs' produce encoding, as sendBatch runs it (internal modules of kafkajs 2.2.4)
const kafkajsDir = path.dirname(require.resolve('kafkajs/package.json', { paths: [path.join(ROOT, 'services/publisher')] }));
const kreq = (p) => require(path.join(kafkajsDir, 'src', p));
const groupMessagesPerPartition = kreq('producer/groupMessagesPerPartition');
const createTopicData = kreq('producer/createTopicData');
const ProduceRequest = kreq('protocol/requests/produce/v3/request');
const Long = kreq('utils/long');
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, p) => ({ partitionId: p, leader: 1 }));
async function kafkajsEncode(topicMessages) {
  const topicData = [];
  for (const { topic, messages } of topicMessages) {
    const messagesPerPartition = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner: ({ message }) => message.partition });
    const partitions = Object.keys(messagesPerPartition);
    for (const t of createTopicData([{ topic, partitions, messagesPerPartition }])) {
      topicData.push({ topic: t.topic, partitions: t.partitions.map((p) => ({ ...p, firstSequence: 0 })) });
    }
  }
  const request = ProduceRequest({ acks: -1, timeout: 30000, compression: 0, topicData, transactionalId: null, producerId: Long.fromNumber(1), producerEpoch: 0 });
  return (await request.encode()).buffer.length;
}

// ---- an in-memory Kafka with just the surface the publisher uses
const sent = { records: 0, requests: 0 };
let eachBatch;
const groupJoin = [];
function fakeKafka() {
  const all = Object.values(topics);
  return {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      listTopics: async () => all,
      createTopics: async () => true,
      fetchTopicMetadata: async ({ topics: ts }) => ({ topics: ts.map((name) => ({ name, partitions: partitionMetadata })) }),
      describeConfigs: async () => ({ resources: [{ configEntries: [{ configName: 'cleanup.policy', configValue: 'compact' }] }] }),
      fetchTopicOffsets: async () => partitionMetadata.map((p) => ({ partition: p.partitionId, high: '0', low: '0', offset: '0' })),
    }),
    consumer: () => ({
      events: { GROUP_JOIN: 'join', CRASH: 'crash', DISCONNECT: 'disconnect', STOP: 'stop' },
      on(event, fn) {
        if (event === 'join') groupJoin.push(fn);
      },
      connect: async () => {},
      subscribe: async () => {},
      run: async (o) => {
        eachBatch = o.eachBatch;
      },
      commitOffsets: async () => {},
      stop: async () => {},
      disconnect: async () => {},
    }),
    producer: () => ({
      connect: async () => {},
      disconnect: async () => {},
      async sendBatch({ topicMessages }) {
        sent.requests++;
        for (const t of topicMessages) sent.records += t.messages.length;
        if (KAFKAJS_ENCODE) await kafkajsEncode(topicMessages);
        return [];
      },
    }),
  };
}

// ---- decisions shaped like the default rules' (≈1.6 changes each, a few features)
const LABELS = [
  ['high-value', 'value'],
  ['first-time-buyer', 'lifecycle'],
  ['engaged', 'behaviour'],
  ['inactive', 'behaviour'],
  ['satisfied', 'satisfaction'],
  ['loyal', 'lifecycle'],
];
function makeDecision(partition, seq, i) {
  const nChanges = i % 5 < 3 ? 1 : 2;
  const changes = [];
  for (let k = 0; k < nChanges; k++) {
    const [label, category] = LABELS[(i + k * 3) % LABELS.length];
    changes.push({
      label,
      category,
      change: (i + k) % 3 === 0 ? 'REMOVED' : 'ASSIGNED',
      reason: 'enter',
      features: { spend_90d: 1200.5 + i, purchases_lifetime: (i % 7) + 1, clicks_14d: i % 11, vip: i % 2 === 0 },
    });
  }
  const labels = [LABELS[i % 6][0], LABELS[(i + 2) % 6][0], LABELS[(i + 4) % 6][0]];
  const now = 1_763_900_000_000 + i;
  return {
    decisionId: `${partition}-${seq}`,
    sourcePartition: partition,
    seq,
    customerId: `customer-${(i * 7919) % 10000}`,
    effectiveAt: now,
    decidedAt: now + 250,
    rulesVersion: 'rules@3f2a9c1d',
    cause: { kind: 'EVENT', eventId: `evt-${i}-0123456789abcdef`, eventType: 'PURCHASE', eventOccurredAt: now },
    changes,
    labels,
    labelCategories: Object.fromEntries(labels.map((l) => [l, LABELS.find(([n]) => n === l)[1]])),
  };
}
function frame(d) {
  const body = labelDecisionType.toBuffer(d);
  const header = Buffer.alloc(5);
  header.writeInt32BE(DECISION_SCHEMA_ID, 1);
  return Buffer.concat([header, body]);
}

function makeBatches() {
  const batches = [];
  const seq = new Array(PARTITIONS).fill(0);
  const offset = new Array(PARTITIONS).fill(0);
  let i = 0;
  while (i < DECISIONS) {
    for (let p = 0; p < PARTITIONS && i < DECISIONS; p++) {
      const messages = [];
      for (let k = 0; k < BATCH && i < DECISIONS; k++, i++) {
        const d = makeDecision(p, ++seq[p], i);
        messages.push({ offset: String(offset[p]++), key: Buffer.from(d.customerId), value: frame(d), headers: {}, timestamp: '0' });
      }
      batches.push({ partition: p, messages });
    }
  }
  return batches;
}

function payload({ partition, messages }) {
  const last = messages[messages.length - 1].offset;
  return {
    batch: {
      topic: topics.decisions,
      partition,
      messages,
      highWatermark: String(Number(last) + 1),
      isEmpty: () => messages.length === 0,
      lastOffset: () => last,
    },
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
    resolveOffset: () => {},
  };
}

async function main() {
  const registry = new Registry({ url: 'http://registry.invalid' });
  // No registry server: answer the two calls the publisher makes.
  registry.register = async (subject) => (subject.startsWith(topics.labelEvents) ? 902 : 903);
  registry.http = async (method, p) => {
    if (method === 'GET' && p === `/schemas/ids/${DECISION_SCHEMA_ID}`) return { status: 200, json: { schema: JSON.stringify(labelDecisionSchema) } };
    throw new Error(`unexpected registry call ${method} ${p}`);
  };
  const publisher = createPublisher({
    kafka: fakeKafka(),
    registry,
    logger: createLogger({ service: 'bench', level: 'error' }),
    metrics: createMetrics('publisher', { defaultMetrics: false }),
    topics,
    groupId: 'bench',
    topicDefaults: { partitions: PARTITIONS, replicationFactor: 1 },
    ...(MAX_SEND_RECORDS ? { maxSendRecords: Number(MAX_SEND_RECORDS) } : {}),
  });
  await publisher.start();
  for (const fn of groupJoin) fn({ payload: { memberAssignment: { [topics.decisions]: partitionMetadata.map((p) => p.partitionId) }, memberId: 'm' } });

  const batches = makeBatches();
  const warm = Math.ceil(batches.length / 10);
  let decisions = 0;
  for (const b of batches.slice(0, warm)) await eachBatch(payload(b));
  const records0 = sent.records;
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (const b of batches.slice(warm)) {
    await eachBatch(payload(b));
    decisions += b.messages.length;
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
  await publisher.stop();
  const us = (cpu.user + cpu.system) / decisions;
  console.log(
    `publisher per decision: ${us.toFixed(1)} µs CPU (${decisions} decisions in batches of ${BATCH}, ${((sent.records - records0) / decisions).toFixed(2)} records each, ` +
      `${sent.requests} sends, ${wallMs.toFixed(0)} ms wall${KAFKAJS_ENCODE ? ', kafkajs produce encoding included' : ''})`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
