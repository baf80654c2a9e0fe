import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as snappy from 'snappy';
import { batchOffsetsOf } from './batch-locator';
import { gzipCodec, lz4Codec, onUndecodableBatch, registerCodecs, snappyCodec, UndecodableBatchError, zstdCodec, zstdImpl, type KafkaCodec } from './codecs';
// Bytes written by Kafka 3.9's own Java codecs (see fixtures/KafkaCodecFixtures.java).
import javaFixtures from '../fixtures/compression-fixtures.json';

/** The payload KafkaCodecFixtures.java compresses, rebuilt byte for byte. */
function javaPayload(): Buffer {
  let s = '';
  for (let i = 0; s.length < 100_000; i++) s += `{"eventId":"ev-${i % 64}","customerId":"cust-${i % 16}","amountMinor":${(i % 8) * 125}}\n`;
  return Buffer.from(s);
}

const codecs: Array<[string, KafkaCodec]> = [
  ['gzip', gzipCodec],
  ['snappy', snappyCodec],
  ['lz4', lz4Codec],
  ['zstd', zstdCodec()],
  ['zstd (@mongodb-js/zstd)', zstdCodec(zstdImpl('package'))],
];

const samples: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('x')],
  ['JSON', Buffer.from(JSON.stringify({ eventId: 'e1', customerId: 'c1', amountMinor: 1234 }))],
  // Past one 32 KiB snappy block and one 64 KiB lz4 block; incompressible bytes too.
  ['200 KiB mixed', Buffer.concat([javaPayload(), Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24))])],
];

describe.each(codecs)('%s codec (kafkajs interface)', (_name, codec) => {
  it.each(samples)('round-trips %s', async (_what, input) => {
    const compressed = await codec.compress({ buffer: input });
    expect(Buffer.isBuffer(compressed)).toBe(true);
    expect((await codec.decompress(compressed)).equals(input)).toBe(true);
  });

  it('rejects bytes that are not its format', async () => {
    await expect(codec.decompress(Buffer.from('definitely not compressed, and long enough to be read'))).rejects.toThrow();
  });
});

describe('bytes written by Kafka’s Java client', () => {
  const payload = javaPayload();
  it('has the payload the fixture was made from', () => expect(payload.length).toBe(javaFixtures.payloadBytes));

  it.each([
    ['gzip', 'gzip', gzipCodec],
    ['snappy', 'snappy', snappyCodec],
    ['lz4', 'lz4', lz4Codec],
    ['zstd', 'zstd', zstdCodec()],
    ['zstd (@mongodb-js/zstd)', 'zstd', zstdCodec(zstdImpl('package'))],
  ] as const)('%s decodes', async (_label, fixture, codec) => {
    const out = await codec.decompress(Buffer.from(javaFixtures[fixture], 'base64'));
    expect(out.equals(payload)).toBe(true);
  });

  it('lz4 is the frame format (magic 04 22 4D 18) and so is what we write', async () => {
    const magic = Buffer.from([0x04, 0x22, 0x4d, 0x18]);
    expect(Buffer.from(javaFixtures.lz4, 'base64').subarray(0, 4)).toEqual(magic);
    expect((await lz4Codec.compress({ buffer: payload })).subarray(0, 4)).toEqual(magic);
  });

  it('snappy: Java writes xerial framing; we write it too, and read unframed snappy as well', async () => {
    const xerial = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
    expect(Buffer.from(javaFixtures.snappy, 'base64').subarray(0, 8)).toEqual(xerial);
    expect((await snappyCodec.compress({ buffer: payload })).subarray(0, 8)).toEqual(xerial);
    expect((await snappyCodec.decompress(await snappy.compress(payload))).equals(payload)).toBe(true);
  });

  // On the project's Node (24, scripts/node-runtime.sh) 'auto' is node:zlib's zstd; on a Node
  // without it both sides are the package, and the test still checks the round trip.
  it('zstd: node:zlib and @mongodb-js/zstd read each other', async () => {
    const [viaZlib, viaPkg] = [zstdCodec(zstdImpl('auto')), zstdCodec(zstdImpl('package'))];
    expect((await viaPkg.decompress(await viaZlib.compress({ buffer: payload }))).equals(payload)).toBe(true);
    expect((await viaZlib.decompress(await viaPkg.compress({ buffer: payload }))).equals(payload)).toBe(true);
  });
});

/** A v2 record batch header (61 bytes) followed by `records`, as a fetch response holds it. */
function batchWith(codecId: number, baseOffset: bigint, lastOffsetDelta: number, records: Buffer): Buffer {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(baseOffset, 0);
  header.writeInt8(2, 16);
  header.writeInt16BE(codecId, 21);
  header.writeInt32BE(lastOffsetDelta, 23);
  return Buffer.concat([Buffer.from('response bytes before the batch'), header, records]);
}

describe('registerCodecs', () => {
  beforeAll(() => registerCodecs());
  const table = CompressionCodecs as Record<number, () => KafkaCodec>;

  it('puts all four codecs into kafkajs’s table', async () => {
    for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = table[type]!();
      const input = Buffer.from(`payload for codec ${type}`);
      expect((await codec.decompress(await codec.compress({ buffer: input }))).equals(input)).toBe(true);
    }
  });

  it('a corrupt batch fails with UndecodableBatchError naming its offsets, and listeners hear of it', async () => {
    const seen: UndecodableBatchError[] = [];
    const off = onUndecodableBatch((e) => seen.push(e));
    try {
      const response = batchWith(CompressionTypes.LZ4, 41n, 2, Buffer.from('04224d18 but then garbage, not an lz4 frame'));
      const slice = response.subarray(response.length - 43); // what kafkajs hands the codec
      const err = await table[CompressionTypes.LZ4]!().decompress(slice).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UndecodableBatchError);
      expect(err).toMatchObject({ code: 'UNDECODABLE_BATCH', retriable: true, context: { codec: 'lz4', baseOffset: '41', lastOffset: '43', compressedBytes: 43 } });
      expect(seen).toEqual([err]);
    } finally {
      off();
    }
  });

  it('a codec id Kafka does not define fails loudly instead of being read as plain records', async () => {
    const err = await table[6]!().decompress(Buffer.from('anything')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecodableBatchError);
    expect((err as Error).message).toMatch(/codec id 6 is not defined/);
  });
});

describe('batchOffsetsOf', () => {
  it('reads nothing from a buffer that is not a slice behind a matching batch header', () => {
    expect(batchOffsetsOf(Buffer.from('standalone copy'), CompressionTypes.LZ4)).toBeUndefined();
    const response = batchWith(CompressionTypes.GZIP, 7n, 0, Buffer.from('records'));
    expect(batchOffsetsOf(response.subarray(response.length - 7), CompressionTypes.LZ4)).toBeUndefined();
    expect(batchOffsetsOf(response.subarray(response.length - 7), CompressionTypes.GZIP)).toEqual({ baseOffset: '7', lastOffset: '7' });
  });
});
