/**
 * "Any standard Kafka client works", compression: records written by Kafka's own Java
 * console producer with each of gzip, snappy, lz4 and zstd are read by the built ingest
 * service (which stays up and dead-letters nothing); an internal topic with a topic-level
 * `compression.type=zstd` is read by our consumer runner; and what our producers compress
 * is read by Kafka's own Java console consumer.
 *
 * The Java tools run from the Kafka jars the native stack uses: `stack.sh libs` prints
 * their directory, fetching them with Maven first on a machine that lacks them. Kafka 3.x
 * and 4.x jars differ in the console producer's class and the logging config (log4j 1/2).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { createConsumerRunner, createKafka, createProducer, guardCodec, registerCodecs, Registry, type CodecName, type ConsumerRunner, type KafkaCodec } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import { collect, connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';
import { decodeCanonical, deleteIngestTopics, ingestTopicNames, rawPurchase, REPO_ROOT, startIngestProcess, type IngestTestTopics, type ServiceProcess, type TestKafka } from './ingest-fixtures';
import { decodeDecisions } from '../support/evaluator-harness';
import { startService, type RunningService } from '../support/services';

jest.setTimeout(240_000);

const CODECS: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const STACK = join(REPO_ROOT, 'deploy', 'local', 'stack.sh');

let env: StackEnv;
let kafka: TestKafka;
let libs: string;
let kafkaMajor: number;
beforeAll(async () => {
  execFileSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-b', 'services/ingest'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 300_000 });
  libs = execFileSync('bash', [STACK, 'libs'], { encoding: 'utf8', timeout: 600_000 }).trim();
  const core = readdirSync(libs).find((f) => /^kafka_2\.13-\d+\./.test(f));
  if (core === undefined) throw new Error(`no kafka_2.13-*.jar in ${libs} (stack.sh libs)`);
  kafkaMajor = Number(/^kafka_2\.13-(\d+)\./.exec(core)![1]);
  env = await connectStack();
  registerCodecs(); // the test's own kafkajs clients (testKafka) read compressed topics too
  kafka = testKafka(env, 'compression-itest');
}, 900_000);

/** Runs one of Kafka's Java tools from the stack's jars; resolves with its stdout. */
function kafkaTool(cls: string, args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const logging = kafkaMajor >= 4 ? `-Dlog4j2.configurationFile=${join(REPO_ROOT, 'deploy/local/kafka/tools-log4j2.properties')}` : `-Dlog4j.configuration=file:${join(REPO_ROOT, 'deploy/local/kafka/tools-log4j.properties')}`;
    const child = spawn('java', ['-Xmx256m', logging, '-cp', `${libs}/*`, cls, '--bootstrap-server', env.kafkaBrokers.join(','), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cls} exited ${code}: ${err.slice(-2000)}`));
    });
    child.stdin.end(stdin);
  });
}

/** Kafka's own console producer (the Java client), one batch compressed with `codec`. */
function consoleProduce(topic: string, codec: CodecName, lines: string[]): Promise<string> {
  // The class moved from core to kafka-tools in 4.0; `--property` works on both (4.x: deprecated).
  return kafkaTool(kafkaMajor >= 4 ? 'org.apache.kafka.tools.ConsoleProducer' : 'kafka.tools.ConsoleProducer', ['--topic', topic, '--compression-codec', codec, '--sync', '--property', 'parse.key=true', '--property', 'key.separator=\t'], lines.join('\n') + '\n');
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const silent = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('compression: records from clients we did not write', () => {
  let topics: IngestTestTopics;
  let admin: ReturnType<TestKafka['admin']>;
  let svc: ServiceProcess | undefined;

  beforeEach(async () => {
    topics = ingestTopicNames('it-codecs');
    admin = kafka.admin();
    await admin.connect();
  });
  afterEach(async () => {
    if (svc && svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
    await svc?.exited;
    svc = undefined;
    await deleteIngestTopics(admin, topics);
    await admin.disconnect();
  });

  it('a purchase sent by the Java console producer with each codec is normalised by ingest (nothing dead-lettered, ingest stays up) and labelled by the evaluator', async () => {
    // The output topics are internal topics with a topic-level codec: the broker recompresses
    // what ingest writes (zstd on the canonical topic), and the collector below reads it.
    await createTestTopics(admin, [
      { topic: topics.raw.purchases, partitions: 1 },
      { topic: topics.raw.emailClicks, partitions: 1 },
      { topic: topics.raw.supportTickets, partitions: 1 },
      { topic: topics.customerEvents, partitions: 1, config: { 'compression.type': 'zstd' } },
      { topic: topics.dlq, partitions: 1, config: { 'compression.type': 'lz4' } },
      { topic: `${topics.customerEvents}.decisions`, partitions: 1 },
    ]);
    // Before ingest starts, so its first fetch holds all four batches, one codec each.
    for (const codec of CODECS) await consoleProduce(topics.raw.purchases, codec, [`raw-${codec}\t${JSON.stringify(rawPurchase(`ev-${codec}`, `cust-${codec}`))}`]);

    const out = await collect(kafka, [topics.customerEvents]);
    try {
      const groupId = uniqueName('it-codecs-g');
      svc = await startIngestProcess(env, topics, groupId, { TOPIC_PARTITIONS: '1' });
      await svc.waitReady();
      const records = await out.waitForCount(CODECS.length, 60_000);
      const registry = new Registry({ url: env.schemaRegistryUrl });
      const events = await Promise.all(records.map((r) => decodeCanonical(registry, r.value)));
      expect(events.map((e) => e.eventId).sort()).toEqual(CODECS.map((c) => `ev-${c}`).sort());
      for (const r of records) expect(r.key?.toString()).toMatch(/^cust-/);

      // The group committed past all four, and nothing went to the DLQ.
      const svcPort = svc.port;
      await waitFor('ingest to commit the four purchases', async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.raw.purchases] });
        return committed?.partitions[0]?.offset === String(CODECS.length);
      });
      const dlqOffsets = await admin.fetchTopicOffsets(topics.dlq);
      expect(dlqOffsets.map((o) => o.high)).toEqual(['0']);
      expect(await metricsText(svcPort)).not.toMatch(/^labelstream_dlq_total\{[^}]*\} [1-9]/m);
      expect(await metricsText(svcPort)).not.toMatch(/^labelstream_undecodable_batches_total\{[^}]*\} [1-9]/m);
      expect(svc.child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${svcPort}/readyz`)).status).toBe(200);
      expect(svc.output()).not.toMatch(/crashed|not implemented/i);

      // Labelled: the real evaluator (default rules) gives each of the four customers its
      // first order's labels, whatever codec the purchase came in.
      const decisionsTopic = `${topics.customerEvents}.decisions`;
      const decisions = await collect(kafka, [decisionsTopic]);
      let evaluator: RunningService | undefined;
      try {
        evaluator = await startService('evaluator', {
          KAFKA_BROKERS: env.kafkaBrokers.join(','),
          SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
          REDIS_URL: env.redisUrl,
          REDIS_KEY_PREFIX: uniqueName('it-codecs').toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 32),
          EVALUATOR_GROUP_ID: uniqueName('it-codecs-ev'),
          TOPIC_CUSTOMER_EVENTS: topics.customerEvents,
          TOPIC_DECISIONS: decisionsTopic,
          TOPIC_DLQ: topics.dlq,
          TOPIC_PARTITIONS: '1',
          LOG_LEVEL: 'warn',
        });
        const got = await decisions.waitForCount(CODECS.length, 60_000);
        const ds = await decodeDecisions(env, got.map((m) => m.value));
        for (const codec of CODECS) {
          const d = ds.find((x) => x.customerId === `cust-${codec}`);
          expect(d?.cause.eventId).toBe(`ev-${codec}`);
          expect(d?.labels).toEqual(expect.arrayContaining(['customer', 'first_time_buyer']));
        }
      } finally {
        await decisions.stop();
        await evaluator?.stop();
        await admin.deleteTopics({ topics: [decisionsTopic] }).catch(() => undefined);
      }
    } finally {
      await out.stop();
    }
  });

  it('our consumer runner reads an internal topic with topic-level compression.type=zstd', async () => {
    const topic = `${topics.customerEvents}.zstd`;
    await createTestTopics(admin, [{ topic, partitions: 2, config: { 'compression.type': 'zstd' } }]);
    const logger = createLogger({ service: 'codecs-it', level: 'warn', destination: silent() });
    const ours = createKafka({ brokers: env.kafkaBrokers, clientId: uniqueName('codecs-it') }, logger);
    const producer = createProducer(ours); // uncompressed: the broker recompresses to zstd
    await producer.connect();
    const sent = Array.from({ length: 50 }, (_, i) => `v-${i}`);
    await producer.send({ topic, acks: -1, messages: sent.map((v, i) => ({ key: `k-${i % 7}`, value: v })) });
    await producer.disconnect();

    const seen: string[] = [];
    let runner: ConsumerRunner | undefined;
    try {
      runner = createConsumerRunner({
        kafka: ours,
        groupId: uniqueName('it-zstd-g'),
        topics: [topic],
        logger,
        metrics: createMetrics('codecs_it', { defaultMetrics: false }),
        sessionTimeoutMs: 10_000,
        shutdownTimeoutMs: 5000,
        handler: async (batch) => void seen.push(...batch.messages.map((m) => m.value!.toString())),
      });
      await runner.start();
      await waitFor('the runner to read all 50 records', () => seen.length >= sent.length, { lastSeen: () => ({ seen: seen.length, status: runner?.status() }) });
      expect(seen.sort()).toEqual([...sent].sort());
      expect(runner.status()).toMatchObject({ crashed: undefined });
    } finally {
      await runner?.stop();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    }
  });

  it('Kafka’s Java console consumer reads what our producer compresses with each codec', async () => {
    const topic = `${topics.customerEvents}.ours`;
    await createTestTopics(admin, [{ topic, partitions: 1 }]);
    const ours = createKafka({ brokers: env.kafkaBrokers, clientId: uniqueName('codecs-it') }, createLogger({ service: 'codecs-it', level: 'warn', destination: silent() }));
    try {
      for (const codec of CODECS) {
        const producer = createProducer(ours, { compression: codec });
        await producer.connect();
        // Several records and > 64 KiB: more than one lz4 block, more than one snappy block.
        const big = 'x'.repeat(70_000);
        await producer.send({ topic, acks: -1, messages: [{ value: `${codec}-1` }, { value: `${codec}-2-${big}` }, { value: `${codec}-3` }] });
        await producer.disconnect();
      }
      const out = await kafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', ['--topic', topic, '--from-beginning', '--max-messages', String(CODECS.length * 3), '--timeout-ms', '60000']);
      const lines = out.split('\n').filter(Boolean);
      expect(lines.map((l) => (l.length > 40 ? `${l.slice(0, l.indexOf('-2-') + 3)}…${l.length}` : l))).toEqual(
        CODECS.flatMap((c) => [`${c}-1`, `${c}-2-…${c.length + 3 + 70_000}`, `${c}-3`]),
      );
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    }
  });
});

describe('compression: a batch that cannot be decoded', () => {
  it('is named (topic, partition, offsets) in the log and counted, the member turns not ready, and skipping it as the runbook says recovers', async () => {
    const topic = uniqueName('it-undecodable');
    const groupId = uniqueName('it-undecodable-g');
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [{ topic, partitions: 3 }]);
    const lines: string[] = [];
    const logger = createLogger({ service: 'codecs-it', level: 'warn', destination: new Writable({ write: (c: Buffer, _e, cb) => void (lines.push(c.toString()), cb()) }) });
    const ours = createKafka({ brokers: env.kafkaBrokers, clientId: uniqueName('codecs-it') }, logger);
    // Kafka refuses corrupt compressed batches on produce, so corruption is played by the
    // reading side: this process's lz4 codec fails on batches holding "POISON".
    const table = CompressionCodecs as Record<number, () => KafkaCodec>;
    const lz4 = table[CompressionTypes.LZ4]!;
    table[CompressionTypes.LZ4] = () =>
      guardCodec('lz4', CompressionTypes.LZ4, {
        compress: (e) => lz4().compress(e),
        decompress: async (b) => {
          const out = await lz4().decompress(b);
          if (out.includes('POISON')) throw new Error('corrupt lz4 frame (test)');
          return out;
        },
      });
    const producer = createProducer(ours);
    let runner: ConsumerRunner | undefined;
    const seen: string[] = [];
    let metrics = createMetrics('codecs_it', { defaultMetrics: false });
    const start = async (): Promise<ConsumerRunner> => {
      metrics = createMetrics('codecs_it', { defaultMetrics: false });
      const r = createConsumerRunner({ kafka: ours, groupId, topics: [topic], logger, metrics, sessionTimeoutMs: 10_000, shutdownTimeoutMs: 5000, handler: async (b) => void seen.push(...b.messages.map((m) => `${b.partition}:${m.value!.toString()}`)) });
      await r.start();
      return r;
    };
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [0, 1, 2].map((p) => ({ partition: p, value: `before-${p}` })) });
      const [poison] = await producer.send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages: ['POISON-a', 'POISON-b'].map((value) => ({ partition: 2, value })) });
      await producer.send({ topic, acks: -1, messages: [{ partition: 2, value: 'after-2' }] });
      const base = poison!.baseOffset!;
      const last = String(Number(base) + 1);

      runner = await start();
      await waitFor('the undecodable batch to be reported', async () => /labelstream_undecodable_batches_total\{[^}]*partition="2"[^}]*\} [1-9]/.test(await metrics.registry.getSingleMetricAsString('labelstream_undecodable_batches_total')), {
        timeoutMs: 60_000,
        lastSeen: () => ({ status: runner?.status(), log: lines.slice(-3) }),
      });
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith('cannot decompress a record batch'));
      expect(logged).toMatchObject({ topic, partition: 2, offset: base, lastOffset: last, codec: 'lz4' });
      expect(runner.isReady()).toBe(false);
      expect(runner.status()).toMatchObject({ undecodable: [{ topic, partition: 2, baseOffset: base, lastOffset: last }] });
      expect(seen).not.toContain('2:after-2');

      // The runbook: stop the group, move partition 2 past the batch, start again.
      await runner.stop();
      runner = undefined;
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 2, offset: String(Number(last) + 1) }] });
      runner = await start();
      await waitFor('the records after the skipped batch', () => seen.includes('2:after-2'), { timeoutMs: 60_000, lastSeen: () => ({ seen, status: runner?.status() }) });
      await waitFor('the member to be ready again', () => runner!.isReady());
      expect(seen.filter((s) => s.includes('POISON'))).toEqual([]);
    } finally {
      table[CompressionTypes.LZ4] = lz4;
      await runner?.stop();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
