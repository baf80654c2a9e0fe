/**
 * The ingest handler in-process (createIngest + the real consumer runner and producer)
 * against the real Kafka and schema registry: every kind of valid raw event arrives
 * normalised, Avro-encoded and keyed by customerId; every kind of bad input arrives in the
 * DLQ with its reason and original bytes; a poison message blocks nothing.
 */
import { COMPATIBILITY, subjectFor, typeForSchema, type AvroRecordSchema, type CustomerEvent } from '@labelstream/contracts';
import { createHash } from 'node:crypto';
import { DLQ_HEADERS } from '@labelstream/contracts';
import { Registry, topicMaxMessageBytes } from '@labelstream/kafka';
import { collect, connectStack, createTestTopics, testKafka, waitFor, type StackEnv } from '@labelstream/testkit';
import {
  createIngestTopics,
  decodeCanonical,
  deleteIngestTopics,
  dlqHeader,
  ingestTopicNames,
  json,
  rawClick,
  rawPurchase,
  rawTicket,
  startInProcessIngest,
  startRegistryProxy,
  type IngestTestTopics,
  type InProcessIngest,
  type TestKafka,
} from './ingest-fixtures';

jest.setTimeout(120_000);

let env: StackEnv;
let kafka: TestKafka;
let registry: Registry;
beforeAll(async () => {
  env = await connectStack();
  kafka = testKafka(env, 'ingest-itest');
  registry = new Registry({ url: env.schemaRegistryUrl });
});

/** A raw purchase schema as a storefront team would register it (TopicNameStrategy). */
const rawPurchaseSchema: AvroRecordSchema = {
  type: 'record',
  name: 'RawPurchase',
  namespace: 'com.example.storefront',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'orderId', type: 'string' },
    { name: 'amountMinor', type: 'long' },
    { name: 'currency', type: 'string' },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'RawItem',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'category', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'unitPriceMinor', type: 'long' },
          ],
        },
      },
      default: [],
    },
    { name: 'channel', type: ['null', { type: 'enum', name: 'RawChannel', symbols: ['web', 'mobile_app', 'store'] }], default: null },
    { name: 'email', type: ['null', 'string'], default: null },
  ],
};

/** Same, with the amount as a double — which lets a producer send NaN. */
const rawPurchaseDoubleSchema: AvroRecordSchema = {
  type: 'record',
  name: 'RawPurchaseDouble',
  namespace: 'com.example.storefront',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'occurredAt', type: 'long' },
    { name: 'orderId', type: 'string' },
    { name: 'amountMinor', type: 'double' },
    { name: 'currency', type: 'string' },
  ],
};

describe('ingest (in-process, real Kafka and registry)', () => {
  let topics: IngestTestTopics;
  let ingest: InProcessIngest | undefined;
  let admin: ReturnType<TestKafka['admin']>;

  beforeEach(async () => {
    topics = ingestTopicNames('it-ingest');
    admin = kafka.admin();
    await admin.connect();
  });
  afterEach(async () => {
    await ingest?.stop();
    ingest = undefined;
    await deleteIngestTopics(admin, topics);
    await admin.disconnect();
  });

  it('valid events of each kind (JSON and Confluent-Avro) arrive normalised, keyed by customerId, registry-decodable', async () => {
    await createIngestTopics(admin, topics, { raw: 2, out: 3 });
    const subject = subjectFor(topics.raw.purchases);
    const avroId = await registry.register(subject, rawPurchaseSchema, COMPATIBILITY);
    const encodeRaw = registry.encoder<Record<string, unknown>>(avroId, typeForSchema(rawPurchaseSchema));
    const occurred = Date.now() - 120_000;
    const iso = new Date(occurred).toISOString().replace('Z', '+00:00');

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.raw.purchases,
      acks: -1,
      messages: [
        {
          key: 'pos-terminal-7',
          value: json(
            rawPurchase('p-json', 'cust-1', {
              occurredAt: iso,
              amountMinor: 1000,
              currency: 'usd',
              channel: 'mobile-app',
              email: 'jane@example.com',
              name: 'Jane Doe',
            }),
          ),
        },
        {
          key: null,
          value: encodeRaw({
            eventId: 'p-avro',
            customerId: 'cust-2',
            occurredAt: occurred,
            orderId: 'ord-avro',
            amountMinor: 10_000,
            currency: 'jpy',
            items: [{ sku: 'SKU-A', category: ' books ', quantity: 2, unitPriceMinor: 5000 }],
            channel: 'store',
            email: 'kim@example.com',
          }),
        },
      ],
    });
    await producer.send({
      topic: topics.raw.emailClicks,
      acks: -1,
      messages: [{ key: 'x', value: json(rawClick('c-1', 'cust-1', { occurredAt: occurred, linkId: undefined, url: 'https://user:pw@Shop.Example.com/sale/shoes?utm_source=email&uid=abc#top' })) }],
    });
    await producer.send({
      topic: topics.raw.supportTickets,
      acks: -1,
      messages: [{ key: 'y', value: json(rawTicket('t-1', 'cust-3', { occurredAt: iso, status: 'Resolved', priority: 'HIGH', satisfactionScore: 4, phone: '+44 20 7946 0000' })) }],
    });
    await producer.disconnect();

    const out = await collect(kafka, [topics.customerEvents]);
    ingest = await startInProcessIngest(env, topics);
    try {
      const records = await out.waitForCount(4, 30_000);
      const events = new Map<string, { event: CustomerEvent; key: string; partition: number; raw: Buffer }>();
      for (const r of records) {
        const event = await decodeCanonical(registry, r.value);
        events.set(event.eventId, { event, key: r.key!.toString(), partition: r.partition, raw: r.value! });
      }
      expect([...events.keys()].sort()).toEqual(['c-1', 'p-avro', 'p-json', 't-1']);
      for (const { event, key } of events.values()) expect(key).toBe(event.customerId);
      // Keyed by customerId: the same customer's events share a partition.
      expect(events.get('p-json')!.partition).toBe(events.get('c-1')!.partition);

      expect(events.get('p-json')!.event).toMatchObject({
        customerId: 'cust-1',
        eventType: 'PURCHASE',
        occurredAt: occurred,
        source: { topic: topics.raw.purchases, offset: 0 },
        purchase: { orderId: 'ord-p-json', amountMinor: 1000, currency: 'USD', amountMinorBase: 920, channel: 'MOBILE_APP' },
        emailClick: null,
        supportTicket: null,
      });
      expect(events.get('p-avro')!.event).toMatchObject({
        customerId: 'cust-2',
        eventType: 'PURCHASE',
        occurredAt: occurred,
        purchase: {
          orderId: 'ord-avro',
          amountMinor: 10_000,
          currency: 'JPY',
          amountMinorBase: 6100, // ¥10,000 at 0.0061 → €61.00
          items: [{ sku: 'SKU-A', category: 'books', quantity: 2, unitPriceMinor: 5000 }],
          channel: 'STORE',
        },
      });
      expect(events.get('c-1')!.event).toMatchObject({
        customerId: 'cust-1',
        eventType: 'EMAIL_CLICK',
        occurredAt: occurred,
        emailClick: { campaignId: 'spring', emailId: 'msg-1', linkId: 'https://shop.example.com/sale/shoes' },
      });
      expect(events.get('t-1')!.event).toMatchObject({
        customerId: 'cust-3',
        eventType: 'SUPPORT_TICKET',
        supportTicket: { ticketId: 't-t-1', status: 'RESOLVED', priority: 'HIGH', satisfactionScore: 4 },
      });
      // Personal fields the producers sent are gone from the bytes, not just from the type.
      const allBytes = Buffer.concat(records.map((r) => r.value!)).toString('latin1');
      for (const pii of ['jane@example.com', 'Jane Doe', 'kim@example.com', '+44 20', 'uid=abc', 'user:pw']) expect(allBytes).not.toContain(pii);

      // The canonical subject was registered with the project's compatibility level.
      const cfg = await fetch(`${env.schemaRegistryUrl}/config/${encodeURIComponent(subjectFor(topics.customerEvents))}`).then((r) => r.json() as Promise<{ compatibilityLevel?: string }>);
      expect(cfg.compatibilityLevel).toBe(COMPATIBILITY);
    } finally {
      await out.stop();
    }
  });

  it('bad input of every kind goes to the DLQ with its reason, the original bytes and the source position', async () => {
    await createIngestTopics(admin, topics, { raw: 1, out: 1 });
    const goodId = await registry.register(subjectFor(topics.raw.purchases), rawPurchaseSchema, COMPATIBILITY);
    const doubleId = await registry.register(`${topics.raw.purchases}-double-value`, rawPurchaseDoubleSchema, COMPATIBILITY);
    const encodeDouble = registry.encoder<Record<string, unknown>>(doubleId, typeForSchema(rawPurchaseDoubleSchema));
    const frame = (id: number, body: Buffer) => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(id, 1);
      return Buffer.concat([header, body]);
    };
    const now = Date.now();
    const P = topics.raw.purchases;
    const C = topics.raw.emailClicks;
    const S = topics.raw.supportTickets;
    const many = Array.from({ length: 1001 }, () => ({ sku: 'S', category: 'c', quantity: 1, unitPriceMinor: 1 }));
    const cases: Array<{ name: string; topic: string; value: Buffer | null; reason: string; path?: string }> = [
      { name: 'malformed JSON', topic: P, value: Buffer.from('{"eventId": "p1", '), reason: 'MALFORMED_JSON' },
      { name: 'not an object', topic: C, value: Buffer.from('[1,2,3]'), reason: 'NOT_AN_OBJECT' },
      { name: 'invalid UTF-8', topic: P, value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), reason: 'INVALID_UTF8' },
      { name: 'tombstone', topic: S, value: null, reason: 'EMPTY_VALUE' },
      { name: 'zero bytes', topic: C, value: Buffer.alloc(0), reason: 'EMPTY_VALUE' },
      { name: 'oversize', topic: C, value: json(rawClick('big', 'cust-1', { padding: 'x'.repeat(120_000) })), reason: 'OVERSIZE' },
      { name: 'missing customerId', topic: P, value: json(rawPurchase('p2', 'cust-1', { customerId: undefined })), reason: 'MISSING_FIELD', path: 'customerId' },
      { name: 'email as customerId', topic: S, value: json(rawTicket('t1', 'jane@example.com')), reason: 'INVALID_CUSTOMER_ID', path: 'customerId' },
      { name: 'eventId with a space', topic: C, value: json(rawClick('has space', 'cust-1')), reason: 'INVALID_EVENT_ID', path: 'eventId' },
      { name: 'negative amount', topic: P, value: json(rawPurchase('p3', 'cust-1', { amountMinor: -500 })), reason: 'NEGATIVE_AMOUNT', path: 'amountMinor' },
      { name: 'fractional amount', topic: P, value: json(rawPurchase('p4', 'cust-1', { amountMinor: 12.5 })), reason: 'AMOUNT_NOT_INTEGER', path: 'amountMinor' },
      { name: 'amount as a string', topic: P, value: json(rawPurchase('p5', 'cust-1', { amountMinor: '1000' })), reason: 'WRONG_TYPE', path: 'amountMinor' },
      { name: 'huge amount', topic: P, value: json(rawPurchase('p6', 'cust-1', { amountMinor: 1e14 })), reason: 'AMOUNT_TOO_LARGE', path: 'amountMinor' },
      { name: 'unknown currency', topic: P, value: json(rawPurchase('p7', 'cust-1', { currency: 'XYZ' })), reason: 'UNKNOWN_CURRENCY', path: 'currency' },
      { name: 'currency without a rate', topic: P, value: json(rawPurchase('p8', 'cust-1', { currency: 'BRL' })), reason: 'NO_FX_RATE', path: 'currency' },
      { name: 'too many items', topic: P, value: json(rawPurchase('p9', 'cust-1', { items: many })), reason: 'TOO_MANY_ITEMS', path: 'items' },
      { name: 'blank category', topic: P, value: json(rawPurchase('p10', 'cust-1', { items: [{ sku: 'S', category: '  ', quantity: 1, unitPriceMinor: 1 }] })), reason: 'INVALID_TEXT', path: 'items[0].category' },
      { name: 'quantity 0', topic: P, value: json(rawPurchase('p11', 'cust-1', { items: [{ sku: 'S', category: 'c', quantity: 0, unitPriceMinor: 1 }] })), reason: 'OUT_OF_RANGE', path: 'items[0].quantity' },
      { name: 'timestamp without zone', topic: S, value: json(rawTicket('t2', 'cust-1', { occurredAt: '2024-05-01T11:00:00' })), reason: 'INVALID_TIMESTAMP', path: 'occurredAt' },
      { name: 'far-future timestamp', topic: S, value: json(rawTicket('t3', 'cust-1', { occurredAt: now + 86_400_000 })), reason: 'TIMESTAMP_IN_FUTURE', path: 'occurredAt' },
      { name: 'epoch seconds', topic: C, value: json(rawClick('c2', 'cust-1', { occurredAt: Math.floor(now / 1000) })), reason: 'TIMESTAMP_TOO_OLD', path: 'occurredAt' },
      { name: 'unknown ticket status', topic: S, value: json(rawTicket('t4', 'cust-1', { status: 'pending' })), reason: 'INVALID_ENUM', path: 'status' },
      { name: 'satisfaction 9', topic: S, value: json(rawTicket('t5', 'cust-1', { status: 'resolved', satisfactionScore: 9 })), reason: 'OUT_OF_RANGE', path: 'satisfactionScore' },
      { name: 'email address as emailId', topic: C, value: json(rawClick('c3', 'cust-1', { emailId: 'jane@example.com' })), reason: 'INVALID_ID', path: 'emailId' },
      { name: 'unparseable url', topic: C, value: json(rawClick('c4', 'cust-1', { linkId: undefined, url: 'https://exa mple.com/x' })), reason: 'INVALID_URL', path: 'url' },
      { name: 'unknown schema id', topic: P, value: frame(2_000_000_001, Buffer.from([2, 0x61, 2, 0x62])), reason: 'UNKNOWN_SCHEMA' },
      { name: 'body that does not decode', topic: P, value: frame(goodId, Buffer.from([0x06, 0x61])), reason: 'MALFORMED_AVRO' },
      {
        name: 'NaN amount (Avro double)',
        topic: P,
        value: encodeDouble({ eventId: 'p12', customerId: 'cust-1', occurredAt: now - 1000, orderId: 'o', amountMinor: NaN, currency: 'EUR' }),
        reason: 'NON_FINITE_AMOUNT',
        path: 'amountMinor',
      },
    ];
    expect(new Set(cases.map((c) => c.reason)).size).toBeGreaterThanOrEqual(20);

    // One by one, so each case's offset is known from its produce acknowledgement.
    const producer = kafka.producer();
    await producer.connect();
    const offsets: string[] = [];
    for (const c of cases) {
      const [meta] = await producer.send({ topic: c.topic, acks: -1, messages: [{ key: `k-${c.name}`, value: c.value, headers: { 'x-origin': 'itest' } }] });
      offsets.push(meta!.baseOffset!);
    }
    await producer.disconnect();

    const dlq = await collect(kafka, [topics.dlq]);
    const out = await collect(kafka, [topics.customerEvents]);
    ingest = await startInProcessIngest(env, topics, { maxMessageBytes: 100_000 });
    try {
      const records = await dlq.waitForCount(cases.length, 30_000);
      const bySource = new Map(records.map((r) => [`${dlqHeader.sourceTopic(r)}@${dlqHeader.sourceOffset(r)}`, r]));
      const problems: string[] = [];
      cases.forEach((c, i) => {
        const r = bySource.get(`${c.topic}@${offsets[i]}`);
        if (!r) return void problems.push(`${c.name}: not in the DLQ`);
        if (dlqHeader.reason(r) !== c.reason) problems.push(`${c.name}: reason ${dlqHeader.reason(r)}, expected ${c.reason}`);
        if (c.path !== undefined && dlqHeader.path(r) !== c.path) problems.push(`${c.name}: path ${dlqHeader.path(r)}, expected ${c.path}`);
        if (dlqHeader.sourcePartition(r) !== '0') problems.push(`${c.name}: source partition ${dlqHeader.sourcePartition(r)}`);
        const same = c.value === null ? r.value === null : r.value !== null && Buffer.compare(r.value, c.value) === 0;
        if (!same) problems.push(`${c.name}: value bytes changed`);
        if (r.key?.toString() !== `k-${c.name}`) problems.push(`${c.name}: key changed`);
        // the original header's name is listed, its value never copied (raw-input-contract.md §8)
        if (r.headers?.['x-origin'] !== undefined) problems.push(`${c.name}: original header value copied`);
        if (String(r.headers?.[DLQ_HEADERS.headerNames]) !== 'x-origin') problems.push(`${c.name}: original header name not listed`);
      });
      expect(problems).toEqual([]);
      expect(records).toHaveLength(cases.length);
      expect(out.messages).toHaveLength(0);
    } finally {
      await dlq.stop();
      await out.stop();
    }
  });

  it('a poison message does not block its partition: the good ones behind it arrive and the group commits past all', async () => {
    await createIngestTopics(admin, topics, { raw: 1, out: 1 });
    const producer = kafka.producer();
    await producer.connect();
    const poison = [Buffer.from('{"not json'), Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2, 3])];
    const good = Array.from({ length: 20 }, (_, i) => json(rawClick(`good-${i}`, `cust-${i % 3}`)));
    await producer.send({ topic: topics.raw.emailClicks, acks: -1, messages: [poison[0]!, ...good.slice(0, 10), poison[1]!, ...good.slice(10)].map((value) => ({ value })) });
    await producer.disconnect();
    const total = good.length + poison.length;

    const out = await collect(kafka, [topics.customerEvents]);
    const dlq = await collect(kafka, [topics.dlq]);
    ingest = await startInProcessIngest(env, topics);
    try {
      const records = await out.waitForCount(good.length, 30_000);
      const ids = await Promise.all(records.map(async (r) => (await decodeCanonical(registry, r.value)).eventId));
      expect(ids).toEqual(good.map((_, i) => `good-${i}`)); // one partition in, one out: order kept
      const dead = await dlq.waitForCount(2);
      expect(dead.map((r) => dlqHeader.reason(r))).toEqual(['MALFORMED_JSON', 'UNKNOWN_SCHEMA']);

      const groupId = ingest.groupId;
      await waitFor(
        `group ${groupId} to commit offset ${total} on ${topics.raw.emailClicks}`,
        async () => {
          const offsets = await admin.fetchOffsets({ groupId, topics: [topics.raw.emailClicks] });
          return offsets[0]?.partitions[0]?.offset === String(total);
        },
        { timeoutMs: 15_000 },
      );
    } finally {
      await out.stop();
      await dlq.stop();
    }
  });

  it('a 1.5 MB reject the DLQ cannot hold whole is dead-lettered truncated, and the partition moves on (issue 14)', async () => {
    // The sizes of the finding: raw topics take 2 MiB, the DLQ as ingest used to create it (~1.1 MB).
    const dlqLimit = 1_048_588 + 64 * 1024;
    await createTestTopics(admin, [
      { topic: topics.raw.purchases, config: { 'max.message.bytes': String(2 * 1024 * 1024) } },
      { topic: topics.raw.emailClicks },
      { topic: topics.raw.supportTickets },
      { topic: topics.customerEvents },
      { topic: topics.dlq, config: { 'max.message.bytes': String(dlqLimit) } },
    ]);
    const observed = await topicMaxMessageBytes(admin, [topics.raw.purchases, topics.dlq]);
    expect(observed).toEqual({ [topics.raw.purchases]: 2 * 1024 * 1024, [topics.dlq]: dlqLimit });
    const big = json(rawPurchase('big-1', 'cust-big', { note: 'x'.repeat(1_500_000) }));
    const good = Array.from({ length: 5 }, (_, i) => json(rawPurchase(`after-big-${i}`, 'cust-1')));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.raw.purchases, acks: -1, messages: [big, ...good].map((value) => ({ key: 'k', value })) });
    await producer.disconnect();

    const out = await collect(kafka, [topics.customerEvents]);
    const dlq = await collect(kafka, [topics.dlq]);
    ingest = await startInProcessIngest(env, topics, { dlqMaxRecordBytes: observed[topics.dlq] });
    try {
      const records = await out.waitForCount(good.length, 30_000);
      expect(await Promise.all(records.map(async (r) => (await decodeCanonical(registry, r.value)).eventId))).toEqual(good.map((_, i) => `after-big-${i}`));
      const [dead] = await dlq.waitForCount(1);
      expect(dlqHeader.reason(dead!)).toBe('OVERSIZE');
      expect([dlqHeader.sourceTopic(dead!), dlqHeader.sourcePartition(dead!), dlqHeader.sourceOffset(dead!)]).toEqual([topics.raw.purchases, '0', '0']);
      expect(String(dead!.headers?.[DLQ_HEADERS.truncated])).toBe('true');
      expect(String(dead!.headers?.[DLQ_HEADERS.originalBytes])).toBe(String(big.length));
      expect(String(dead!.headers?.[DLQ_HEADERS.sha256])).toBe(createHash('sha256').update(big).digest('hex'));
      expect(dead!.value?.equals(big.subarray(0, 4096))).toBe(true);
      const groupId = ingest.groupId;
      await waitFor(`group ${groupId} to commit past the big record`, async () => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [topics.raw.purchases] });
        return offsets[0]?.partitions[0]?.offset === String(1 + good.length);
      }, { timeoutMs: 15_000 });
    } finally {
      await out.stop();
      await dlq.stop();
    }
  });

  it('a registry outage is retried, never dead-lettered: nothing is committed until the registry is back', async () => {
    await createIngestTopics(admin, topics, { raw: 1, out: 1 });
    const avroId = await registry.register(subjectFor(topics.raw.purchases), rawPurchaseSchema, COMPATIBILITY);
    const encodeRaw = registry.encoder<Record<string, unknown>>(avroId, typeForSchema(rawPurchaseSchema));
    const proxy = await startRegistryProxy(env.schemaRegistryUrl);
    const out = await collect(kafka, [topics.customerEvents]);
    const dlq = await collect(kafka, [topics.dlq]);
    try {
      // Up for start-up (the canonical schema is registered through it), then down.
      ingest = await startInProcessIngest(env, topics, { registryUrl: proxy.url });
      proxy.setDown(true);
      const producer = kafka.producer();
      await producer.connect();
      const occurredAt = Date.now() - 60_000;
      await producer.send({
        topic: topics.raw.purchases,
        acks: -1,
        messages: [
          { value: encodeRaw({ eventId: 'avro-during-outage', customerId: 'cust-9', occurredAt, orderId: 'o-9', amountMinor: 500, currency: 'EUR', items: [], channel: null, email: null }) },
          { value: json(rawPurchase('json-behind-it', 'cust-9')) },
        ],
      });
      await producer.disconnect();

      await waitFor('ingest to retry against the failing registry', () => proxy.refused() >= 3, { timeoutMs: 30_000, lastSeen: () => ({ refused: proxy.refused() }) });
      expect(dlq.messages).toHaveLength(0);
      expect(out.messages).toHaveLength(0); // the JSON event behind it waits too: order is kept
      const committed = await admin.fetchOffsets({ groupId: ingest.groupId, topics: [topics.raw.purchases] });
      expect(committed[0]?.partitions[0]?.offset).toBe('-1');

      proxy.setDown(false);
      const records = await out.waitForCount(2, 60_000);
      const ids = await Promise.all(records.map(async (r) => (await decodeCanonical(registry, r.value)).eventId));
      expect(ids).toEqual(['avro-during-outage', 'json-behind-it']);
      expect(dlq.messages).toHaveLength(0);
    } finally {
      await out.stop();
      await dlq.stop();
      await proxy.close();
    }
  });
});
