import { CompressionTypes, type Kafka, type Producer, type ProducerBatch, type ProducerRecord } from 'kafkajs';
import { createProducer, sendAll } from './producer';

/** A Kafka whose producer records what each call was asked to send. */
function fakeKafka(): { kafka: Kafka; calls: Array<ProducerRecord | ProducerBatch> } {
  const calls: Array<ProducerRecord | ProducerBatch> = [];
  const producer = {
    send: async (r: ProducerRecord) => void calls.push(r),
    sendBatch: async (b: ProducerBatch) => void calls.push(b),
  } as unknown as Producer;
  return { kafka: { producer: () => producer } as unknown as Kafka, calls };
}

describe('createProducer compression', () => {
  it('sends uncompressed unless told otherwise', async () => {
    const { kafka, calls } = fakeKafka();
    await sendAll(createProducer(kafka), new Map([['t', [{ value: 'v' }]]]));
    expect(calls[0]?.compression ?? CompressionTypes.None).toBe(CompressionTypes.None);
  });

  it.each([
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const)('uses %s for send, sendBatch and sendAll; a call may still choose its own', async (name, type) => {
    const { kafka, calls } = fakeKafka();
    const producer = createProducer(kafka, { compression: name });
    await producer.send({ topic: 't', messages: [{ value: 'v' }] });
    await sendAll(producer, new Map([['t', [{ value: 'v' }]]]));
    await producer.sendBatch({ topicMessages: [], compression: CompressionTypes.None });
    expect(calls.map((c) => c.compression)).toEqual([type, type, CompressionTypes.None]);
  });
});
