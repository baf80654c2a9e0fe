/**
 * Proves the stack every other test stands on: a real Kafka (KRaft) broker driven by
 * kafkajs 2.2.4 — admin API, produce, consume in a group, committed offsets — a real
 * Confluent-compatible registry, and a real Redis running Lua.
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import Redis from 'ioredis';
import { Type } from 'avsc';
import { Registry } from '@labelstream/kafka';
import { connectStack, createTestTopics, testKafka, uniqueName, waitFor, type StackEnv } from '@labelstream/testkit';

let env: StackEnv;
beforeAll(async () => {
  env = await connectStack();
  // Printed so the CI log shows which real servers the suite talked to.
  console.log(`stack (${env.source}): kafka=${env.kafkaBrokers.join(',')} registry=${env.schemaRegistryUrl} redis=${env.redisUrl}`);
});

/** The request versions kafkajs implements, by API key (its own tables, not a copy). */
function kafkajsRequestVersions(): { name: string; key: number; versions: number[] }[] {
  const fromKafkajs = createRequire(require.resolve('kafkajs'));
  const { requests } = fromKafkajs('./src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
  const apiKeys = fromKafkajs('./src/protocol/requests/apiKeys') as Record<string, number>;
  return Object.entries(requests)
    .filter(([, def]) => def.versions.length > 0)
    .map(([name, def]) => ({ name, key: apiKeys[name]!, versions: def.versions.map(Number) }));
}

/** The broker's ApiVersions (v0, which every broker serves, answered before any login): key → [min, max]. */
function brokerApiVersions(broker: string): Promise<Map<number, [number, number]>> {
  const [host, port] = [broker.slice(0, broker.lastIndexOf(':')), Number(broker.slice(broker.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      // size, api key 18, version 0, correlation id 42, client id "ls"
      socket.write(Buffer.from([0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0, 42, 0, 2, 0x6c, 0x73]));
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no ApiVersions answer from ${broker} in 10 s`)));
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      socket.end();
      const error = buf.readInt16BE(8);
      if (error !== 0) return reject(new Error(`ApiVersions error code ${error} from ${broker}`));
      const served = new Map<number, [number, number]>();
      for (let i = 0, o = 14; i < buf.readInt32BE(10); i++, o += 6) served.set(buf.readInt16BE(o), [buf.readInt16BE(o + 2), buf.readInt16BE(o + 4)]);
      resolve(served);
    });
  });
}

describe('native stack', () => {
  it('every request version kafkajs 2.2.4 picks is one the broker serves (Kafka 4.0 removed the pre-2.1 ones, KIP-896)', async () => {
    const served = await brokerApiVersions(env.kafkaBrokers[0]!);
    const ours = kafkajsRequestVersions();
    // kafkajs's rule (protocol/requests lookup): the newest version it implements, capped at the broker's newest.
    const refused = ours.flatMap(({ name, key, versions }) => {
      const range = served.get(key);
      const picked = Math.min(Math.max(...versions), range?.[1] ?? -1);
      return range && picked >= range[0] ? [] : [`${name} (key ${key}): kafkajs v${Math.min(...versions)}-v${Math.max(...versions)}, broker ${range ? `v${range[0]}-v${range[1]}` : 'none'}`];
    });
    expect(refused).toEqual([]);
    expect(ours.map((r) => r.name)).toEqual(expect.arrayContaining(['Produce', 'Fetch', 'JoinGroup', 'OffsetCommit', 'InitProducerId', 'EndTxn', 'CreateTopics']));
  });

  it('kafkajs 2.2.4: admin, produce, group consume, commit and committed offsets', async () => {
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('it-stack');
    const groupId = uniqueName('it-group');
    try {
      await createTestTopics(admin, [{ topic, partitions: 2 }]);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]?.partitions).toHaveLength(2);
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(message.value!.toString());
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        },
      });
      await waitFor('10 messages consumed by the group', () => seen.length >= 10, { lastSeen: () => seen.length });
      await consumer.disconnect();
      expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());

      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
      expect(committed).toBe(10);
      const groups = await admin.describeGroups([groupId]);
      expect(groups.groups[0]?.groupId).toBe(groupId);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('registry: instances starting at once register a fresh subject, each getting the one id', async () => {
    // Three evaluators started together each set the decisions subject's compatibility
    // first; Apicurio answered all but one with 409 "rule already exists".
    const subject = `${uniqueName('it-race')}-value`;
    const schema = { type: 'record', name: 'Race', namespace: 'io.labelstream.test', fields: [{ name: 'id', type: 'string' }] };
    const ids = await Promise.all(Array.from({ length: 6 }, () => new Registry({ url: env.schemaRegistryUrl }).register(subject, schema, 'BACKWARD')));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBeGreaterThan(0);
  });

  it('registry: register an Avro schema, produce a Confluent-framed record, consume and decode it', async () => {
    const registry = new Registry({ url: env.schemaRegistryUrl });
    const topic = uniqueName('it-avro');
    const schema = {
      type: 'record',
      name: 'Ping',
      namespace: 'io.labelstream.test',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'at', type: 'long' },
      ],
    };
    const type = Type.forSchema(schema as never);
    const id = await registry.register(`${topic}-value`, schema, 'BACKWARD');
    expect(id).toBeGreaterThan(0);
    // Registering the same schema again is idempotent.
    expect(await registry.register(`${topic}-value`, schema, 'BACKWARD')).toBe(id);

    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [{ topic }]);
    const producer = kafka.producer();
    await producer.connect();
    const encode = registry.encoder<{ id: string; at: number }>(id, type);
    const value = encode({ id: 'p-1', at: 1_763_900_000_000 });
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(id);
    await producer.send({ topic, messages: [{ key: 'p-1', value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('it-avro-group'), maxWaitTimeInMs: 50 });
    let got: Buffer | undefined;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void (got = message.value ?? undefined) });
    await waitFor('the Avro record', () => got);
    await consumer.disconnect();

    // A fresh registry client proves the writer schema is fetched from the server by id.
    const decoded = await new Registry({ url: env.schemaRegistryUrl }).decode<{ id: string; at: number }>(got, type);
    expect(decoded).toEqual({ id: 'p-1', at: 1_763_900_000_000 });
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('redis: a Lua script round-trips atomically', async () => {
    const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 1 });
    const prefix = uniqueName('it-lua');
    try {
      redis.defineCommand('incrAndEcho', {
        numberOfKeys: 1,
        lua: "local n = redis.call('INCRBY', KEYS[1], ARGV[1]); return {n, ARGV[2]}",
      });
      const r1 = await (redis as unknown as { incrAndEcho: (k: string, by: number, echo: string) => Promise<[number, string]> }).incrAndEcho(`${prefix}:n`, 5, 'hello');
      const r2 = await (redis as unknown as { incrAndEcho: (k: string, by: number, echo: string) => Promise<[number, string]> }).incrAndEcho(`${prefix}:n`, 2, 'world');
      expect(r1).toEqual([5, 'hello']);
      expect(r2).toEqual([7, 'world']);
      expect(await redis.get(`${prefix}:n`)).toBe('7');
    } finally {
      await redis.del(`${prefix}:n`);
      redis.disconnect();
    }
  });
});
