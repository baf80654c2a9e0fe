import { CompressionTypes } from 'kafkajs';
import { locateBatch } from './batch-locator';
import { guardCodec, UndecodableBatchError } from './codecs';

/** A v2 record batch: 61-byte header (offsets, magic 2, codec) then `records`. */
function batch(baseOffset: bigint, lastOffsetDelta: number, codecId: number, records: Buffer): Buffer {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(baseOffset, 0);
  header.writeInt32BE(61 - 12 + records.length, 8);
  header.writeInt8(2, 16);
  header.writeInt16BE(codecId, 21);
  header.writeInt32BE(lastOffsetDelta, 23);
  header.writeInt32BE(lastOffsetDelta + 1, 57);
  return Buffer.concat([header, records]);
}

const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** One partition of a Fetch v11 response. */
function partition(id: number, batches: Buffer[], aborted = -1): Buffer {
  const records = Buffer.concat(batches);
  return Buffer.concat([int32(id), int16(0), Buffer.alloc(24), int32(aborted), Buffer.alloc(Math.max(0, aborted) * 16), int32(-1), int32(records.length), records]);
}

function topic(name: string, partitions: Buffer[]): Buffer {
  return Buffer.concat([int16(name.length), Buffer.from(name), int32(partitions.length), ...partitions]);
}

/** A whole response as kafkajs holds it: size, correlation id, then the Fetch v11 body. */
function response(topics: Buffer[]): Buffer {
  const body = Buffer.concat([int32(0), int16(0), int32(0), int32(topics.length), ...topics]);
  return Buffer.concat([int32(body.length + 4), int32(7), body]);
}

const LZ4 = CompressionTypes.LZ4;
const bad = Buffer.from('not an lz4 frame at all');

describe('locateBatch', () => {
  // Two topics; the bad batch is the second batch of storefront.purchases partition 4,
  // behind a partition with aborted transactions and a batch of another codec.
  const target = batch(1000n, 2, LZ4, bad);
  const whole = response([
    topic('storefront.email-clicks', [partition(4, [batch(7n, 0, 0, Buffer.from('plain'))])]),
    topic('storefront.purchases', [
      partition(1, [batch(5n, 1, CompressionTypes.GZIP, Buffer.from('gz-ish'))], 2),
      partition(4, [batch(990n, 9, LZ4, Buffer.from('a good one')), target]),
      partition(5, []),
    ]),
  ]);
  const slice = whole.subarray(whole.indexOf(target) + 61, whole.indexOf(target) + target.length);

  it('names topic, partition and offsets of a batch inside a Fetch v11 response', () => {
    expect(locateBatch(slice, LZ4)).toEqual({ topic: 'storefront.purchases', partition: 4, baseOffset: '1000', lastOffset: '1002' });
  });

  it('gives the offsets alone when the bytes before do not parse as a response, and nothing for a copy', () => {
    const orphan = Buffer.concat([Buffer.from('garbage'), target]);
    expect(locateBatch(orphan.subarray(orphan.length - bad.length), LZ4)).toEqual({ baseOffset: '1000', lastOffset: '1002' });
    expect(locateBatch(Buffer.from(slice), LZ4)).toBeUndefined();
    expect(locateBatch(slice, CompressionTypes.ZSTD)).toBeUndefined();
  });

  it('a guarded codec’s error carries the place', async () => {
    const failing = guardCodec('lz4', LZ4, { compress: async () => Buffer.alloc(0), decompress: () => Promise.reject(new Error('bad frame')) });
    const err = await failing.decompress(slice).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecodableBatchError);
    expect((err as Error).message).toBe('cannot decompress the lz4 record batch of storefront.purchases partition 4 at offsets 1000..1002: bad frame');
    expect((err as UndecodableBatchError).context).toMatchObject({ topic: 'storefront.purchases', partition: 4, baseOffset: '1000', lastOffset: '1002', compressedBytes: bad.length });
  });
});
