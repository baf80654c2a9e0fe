import type { Producer, ProducerBatch, KafkaMessage, TopicMessages } from 'kafkajs';
import { customerEventType, DLQ_HEADERS, type CustomerEvent } from '@labelstream/contracts';
import { compileIngestPolicy } from '@labelstream/ingest-core';
import { Registry, RegistryUnavailableError, UndecodableError, UnknownSchemaError, type Batch, type BatchContext } from '@labelstream/kafka';
import { createLogger, createMetrics } from '@labelstream/observability';
import { createIngest, type IngestDeps } from './ingest';
import { BatchAbandonedError, InvalidIngestTopicsError, UnknownRawTopicError } from './errors';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const TOPICS = {
  raw: { purchases: 'raw.p', emailClicks: 'raw.c', supportTickets: 'raw.s' },
  customerEvents: 'events',
  dlq: 'dlq',
};
const SCHEMA_ID = 7;

function msg(offset: number, value: unknown, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { key: Buffer.from('raw-key'), value: bytes, timestamp: String(NOW), attributes: 0, offset: String(offset), headers: { trace: 'abc' }, ...extra } as KafkaMessage;
}

function click(eventId: string, customerId: string, extra: Record<string, unknown> = {}) {
  return { eventId, customerId, occurredAt: NOW - 1000, campaignId: 'camp', emailId: 'msg-1', url: 'https://Shop.example.com/x?email=jane@example.com', ...extra };
}

function setup(over: Partial<IngestDeps> = {}) {
  const sent: ProducerBatch[] = [];
  const producer = { sendBatch: jest.fn(async (b: ProducerBatch) => void sent.push(b)) } as unknown as Producer;
  const registry = new Registry({ url: 'http://127.0.0.1:1' });
  jest.spyOn(registry, 'register').mockResolvedValue(SCHEMA_ID);
  const decodeWithWriter = jest.spyOn(registry, 'decodeWithWriter');
  const lines: string[] = [];
  const logger = createLogger({ service: 'ingest-test', level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const metrics = createMetrics('ingest-test', { defaultMetrics: false });
  const ingest = createIngest({
    registry,
    producer,
    policy: compileIngestPolicy({ baseCurrency: 'EUR', fxRatesToBase: { USD: 0.92 } }),
    topics: TOPICS,
    logger,
    metrics,
    now: () => NOW,
    ...over,
  });
  return { ingest, sent, producer, registry, decodeWithWriter, lines, metrics };
}

function ctx(over: Partial<BatchContext> = {}): BatchContext & { heartbeat: jest.Mock } {
  return { heartbeat: jest.fn(async () => undefined), isActive: () => true, signal: new AbortController().signal, ...over } as BatchContext & { heartbeat: jest.Mock };
}

function batch(topic: string, messages: KafkaMessage[], partition = 2): Batch {
  return { topic, partition, messages, highWatermark: String(messages.length) };
}

function topicMessages(sent: ProducerBatch[], topic: string): TopicMessages['messages'] {
  return sent.flatMap((b) => b.topicMessages ?? []).filter((t) => t.topic === topic).flatMap((t) => t.messages);
}

function decode(value: unknown): CustomerEvent {
  const buf = value as Buffer;
  expect(buf[0]).toBe(0);
  expect(buf.readInt32BE(1)).toBe(SCHEMA_ID);
  return customerEventType.fromBuffer(buf.subarray(5)) as CustomerEvent;
}

describe('createIngest', () => {
  it('registers the canonical schema at init', async () => {
    const { ingest, registry } = setup();
    await expect(ingest.init()).resolves.toBe(SCHEMA_ID);
    expect(registry.register).toHaveBeenCalledWith('events-value', expect.objectContaining({ name: 'CustomerEvent' }), 'BACKWARD');
    expect(ingest.rawTopics).toEqual(['raw.p', 'raw.c', 'raw.s']);
  });

  it('sends accepted events keyed by customerId, in batch order, and rejects to the DLQ, in one acknowledged produce', async () => {
    const { ingest, sent, producer, metrics } = setup();
    await ingest.init();
    const messages = [
      msg(10, click('e1', 'cust-a')),
      msg(11, '{"eventId":'),
      msg(12, click('e2', 'cust-b')),
      msg(13, click('e3', 'cust-a')),
      msg(14, click('e4', 'jane@example.com')),
      msg(15, null),
    ];
    await ingest.handleBatch(batch('raw.c', messages), ctx());

    expect(producer.sendBatch).toHaveBeenCalledTimes(1);
    expect(sent[0]?.acks).toBe(-1);
    const out = topicMessages(sent, 'events');
    expect(out.map((m) => m.key)).toEqual(['cust-a', 'cust-b', 'cust-a']);
    const events = out.map((m) => decode(m.value));
    expect(events.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(events[0]).toMatchObject({
      eventType: 'EMAIL_CLICK',
      ingestedAt: NOW,
      source: { topic: 'raw.c', partition: 2, offset: 10 },
      emailClick: { campaignId: 'camp', emailId: 'msg-1', linkId: 'https://shop.example.com/x' },
    });

    const dead = topicMessages(sent, 'dlq');
    expect(dead.map((m) => m.headers?.[DLQ_HEADERS.reason])).toEqual(['MALFORMED_JSON', 'INVALID_CUSTOMER_ID', 'EMPTY_VALUE']);
    expect(dead[0]?.value).toEqual(messages[1]?.value);
    expect(dead[0]?.key).toEqual(Buffer.from('raw-key'));
    expect(dead[0]?.headers?.trace).toBeUndefined(); // original header values stay behind: names only
    expect(dead[0]?.headers).toMatchObject({
      [DLQ_HEADERS.headerNames]: 'trace',
      [DLQ_HEADERS.sourceTopic]: 'raw.c',
      [DLQ_HEADERS.sourcePartition]: '2',
      [DLQ_HEADERS.sourceOffset]: '11',
      [DLQ_HEADERS.failedAt]: new Date(NOW).toISOString(),
    });
    expect(dead[1]?.headers?.[DLQ_HEADERS.path]).toBe('customerId');

    expect((await metrics.eventsConsumed.get()).values).toEqual([expect.objectContaining({ labels: { topic: 'raw.c', type: 'EMAIL_CLICK' }, value: 6 })]);
    expect((await metrics.eventsProduced.get()).values).toEqual([expect.objectContaining({ labels: { topic: 'events', type: 'EMAIL_CLICK' }, value: 3 })]);
    const dlq = (await metrics.deadLettered.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(dlq).toEqual(expect.arrayContaining([['MALFORMED_JSON', 1], ['INVALID_CUSTOMER_ID', 1], ['EMPTY_VALUE', 1]]));
    expect(ingest.stats()).toEqual({ consumed: 6, produced: 3, deadLettered: 3, byReason: { MALFORMED_JSON: 1, INVALID_CUSTOMER_ID: 1, EMPTY_VALUE: 1 } });
  });

  it('logs reject reasons and positions, never message content', async () => {
    const { ingest, lines } = setup();
    await ingest.init();
    await ingest.handleBatch(batch('raw.c', [msg(3, click('e1', 'jane@example.com', { name: 'Jane Doe' }))]), ctx());
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'raw message rejected');
    expect(rejected).toEqual([expect.objectContaining({ level: 'debug', reason: 'INVALID_CUSTOMER_ID', topic: 'raw.c', partition: 2, offset: '3' })]);
    expect(lines.join('\n')).not.toMatch(/jane|Jane Doe/);
  });

  it('decodes Confluent-framed values with their writer schema; unknown ids and bad bytes are dead-lettered', async () => {
    const { ingest, sent, decodeWithWriter } = setup();
    await ingest.init();
    const framed = (id: number) => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), Buffer.from('avro-body')]);
    decodeWithWriter.mockImplementation(async (value) => {
      const id = (value as Buffer).readInt32BE(1);
      if (id === 1) return { schemaId: 1, type: customerEventType, value: { ...click('a1', 'cust-z'), linkId: null, url: 'https://x.example/' } };
      if (id === 2) throw new UnknownSchemaError(2);
      throw new UndecodableError('bad', { schemaId: id });
    });
    await ingest.handleBatch(batch('raw.c', [msg(0, framed(1)), msg(1, framed(2)), msg(2, framed(3))]), ctx());
    expect(topicMessages(sent, 'events').map((m) => decode(m.value).eventId)).toEqual(['a1']);
    expect(topicMessages(sent, 'dlq').map((m) => m.headers?.[DLQ_HEADERS.reason])).toEqual(['UNKNOWN_SCHEMA', 'MALFORMED_AVRO']);
  });

  it('a registry outage fails the batch (retriable) and sends nothing', async () => {
    const { ingest, producer, decodeWithWriter } = setup();
    await ingest.init();
    decodeWithWriter.mockRejectedValue(new RegistryUnavailableError('http://registry'));
    const framed = Buffer.from([0, 0, 0, 0, 9, 1, 2]);
    await expect(ingest.handleBatch(batch('raw.p', [msg(0, click('ok', 'c')), msg(1, framed)]), ctx())).rejects.toMatchObject({ retriable: true, code: 'REGISTRY_UNAVAILABLE' });
    expect(producer.sendBatch).not.toHaveBeenCalled();
  });

  it('heartbeats every heartbeatEvery messages', async () => {
    const { ingest } = setup({ heartbeatEvery: 2 });
    await ingest.init();
    const c = ctx();
    await ingest.handleBatch(batch('raw.c', Array.from({ length: 5 }, (_, i) => msg(i, click(`e${i}`, 'c')))), c);
    expect(c.heartbeat).toHaveBeenCalledTimes(2);
  });

  it('abandons a batch whose partition was revoked: throws a retriable error and sends nothing', async () => {
    const { ingest, producer } = setup({ heartbeatEvery: 2 });
    await ingest.init();
    let active = true;
    const c = ctx({ isActive: () => active });
    c.heartbeat.mockImplementation(async () => {
      active = false;
    });
    const err = await ingest.handleBatch(batch('raw.c', Array.from({ length: 5 }, (_, i) => msg(i, click(`e${i}`, 'c')))), c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchAbandonedError);
    expect(err).toMatchObject({ retriable: true, context: { processed: 4, total: 5 } });
    expect(producer.sendBatch).not.toHaveBeenCalled();
  });

  it('checks isActive once more before producing', async () => {
    const { ingest, producer } = setup();
    await ingest.init();
    await expect(ingest.handleBatch(batch('raw.c', [msg(0, click('e', 'c'))]), ctx({ isActive: () => false }))).rejects.toBeInstanceOf(BatchAbandonedError);
    expect(producer.sendBatch).not.toHaveBeenCalled();
  });

  it('refuses a batch from an unknown topic (not retriable) and one before init', async () => {
    const { ingest } = setup();
    await expect(ingest.handleBatch(batch('raw.c', [msg(0, click('e', 'c'))]), ctx())).rejects.toThrow(/init\(\)/);
    await ingest.init();
    await expect(ingest.handleBatch(batch('other', [msg(0, '{}')]), ctx())).rejects.toBeInstanceOf(UnknownRawTopicError);
  });

  it('refuses topic configurations where the topic cannot decide the kind', () => {
    expect(() => setup({ topics: { ...TOPICS, raw: { ...TOPICS.raw, supportTickets: 'raw.p' } } })).toThrow(InvalidIngestTopicsError);
  });
});

describe('drain (graceful stop)', () => {
  it('lets batches in progress finish and send; batches handed over later wait for the stop signal and are abandoned unsent', async () => {
    const { ingest, sent, producer } = setup();
    await ingest.init();
    let release: () => void = () => undefined;
    (producer.sendBatch as jest.Mock).mockImplementationOnce(async (b: ProducerBatch) => {
      await new Promise<void>((r) => (release = r));
      sent.push(b);
    });
    const inProgress = ingest.handleBatch(batch('raw.c', [msg(0, click('e1', 'c'))]), ctx());
    await new Promise((r) => setImmediate(r)); // reach sendBatch

    const draining = ingest.drain(5000);
    const abort = new AbortController();
    const later = ingest.handleBatch(batch('raw.c', [msg(1, click('e2', 'c'))]), ctx({ signal: abort.signal }));
    let drained: number | undefined;
    void draining.then((n) => (drained = n));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBeUndefined(); // still waiting for the batch in progress

    release();
    await expect(inProgress).resolves.toBeUndefined();
    await expect(draining).resolves.toBe(1);
    expect(topicMessages(sent, 'events').map((m) => decode(m.value).eventId)).toEqual(['e1']);

    abort.abort();
    await expect(later).rejects.toBeInstanceOf(BatchAbandonedError);
    expect(producer.sendBatch).toHaveBeenCalledTimes(1);
  });

  it('gives up waiting after its bound', async () => {
    const { ingest, producer } = setup();
    await ingest.init();
    (producer.sendBatch as jest.Mock).mockImplementationOnce(() => new Promise(() => undefined));
    void ingest.handleBatch(batch('raw.c', [msg(0, click('e1', 'c'))]), ctx());
    await new Promise((r) => setImmediate(r));
    await expect(ingest.drain(20)).resolves.toBe(1);
  });
});
