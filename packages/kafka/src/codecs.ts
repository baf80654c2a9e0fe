/**
 * Kafka's four compression codecs for kafkajs, which implements only gzip itself: without
 * these, one Snappy, LZ4 or ZSTD batch from any ordinary producer (or a topic-level
 * `compression.type`) makes the fetch fail and the consumer crash on it for ever.
 *
 * Formats are the ones Kafka's Java client writes into a v2 record batch:
 * - gzip: a gzip stream (zlib's `unzip` also takes zlib and raw deflate, as kafkajs did).
 * - snappy: xerial-framed Snappy (`\x82SNAPPY\0` header, then length-prefixed blocks), as
 *   Java's `SnappyOutputStream` writes; unframed (raw) Snappy, as librdkafka may send, is
 *   read too. We write the framed form, which every client reads.
 * - lz4: the LZ4 *frame* format (magic `04 22 4D 18`), independent blocks.
 * - zstd: a Zstandard frame; node:zlib's zstd where this Node has it (22.15+ / 23.8+),
 *   else the @mongodb-js/zstd native binding.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as lz4 from 'lz4-napi';
import * as snappy from 'snappy';
import { locateBatch } from './batch-locator';
import { AdapterError } from './errors';

/** The codec interface kafkajs calls: `compress` gets its encoder (only `.buffer` is read). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Zstandard level for what we produce: Kafka's default (`compression.zstd.level`). */
const ZSTD_LEVEL = 3;
/** xerial's block size (snappy-java `SnappyOutputStream`'s default). */
const SNAPPY_BLOCK = 32 * 1024;
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, then version 1 and minimum compatible version 1, as snappy-java writes them. */
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);

const gzipAsync = promisify(zlib.gzip);
const unzipAsync = promisify(zlib.unzip);

export const gzipCodec: KafkaCodec = {
  compress: ({ buffer }) => gzipAsync(buffer),
  decompress: (buffer) => unzipAsync(buffer),
};

async function snappyUncompress(block: Buffer): Promise<Buffer> {
  return (await snappy.uncompress(block, { asBuffer: true })) as Buffer;
}

export const snappyCodec: KafkaCodec = {
  async compress({ buffer }) {
    const parts: Buffer[] = [XERIAL_HEADER];
    for (let at = 0; at < buffer.length; at += SNAPPY_BLOCK) {
      const block = await snappy.compress(buffer.subarray(at, at + SNAPPY_BLOCK));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(block.length);
      parts.push(len, block);
    }
    return Buffer.concat(parts);
  },
  async decompress(buffer) {
    if (buffer.length < XERIAL_HEADER.length || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return snappyUncompress(buffer);
    const parts: Buffer[] = [];
    for (let at = XERIAL_HEADER.length; at < buffer.length; ) {
      if (at + 4 > buffer.length) throw new Error(`truncated xerial snappy block header at byte ${at}`);
      const len = buffer.readUInt32BE(at);
      if (at + 4 + len > buffer.length) throw new Error(`xerial snappy block at byte ${at} claims ${len} bytes, ${buffer.length - at - 4} left`);
      parts.push(await snappyUncompress(buffer.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    return Buffer.concat(parts);
  },
};

export const lz4Codec: KafkaCodec = {
  // lz4_flex's frame defaults: 64 KiB independent blocks, no checksums — what Kafka writes.
  compress: ({ buffer }) => lz4.compressFrame(buffer),
  decompress: (buffer) => lz4.decompressFrame(buffer),
};

interface ZstdImpl {
  compress(buffer: Buffer): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

type ZlibWithZstd = typeof zlib & {
  zstdCompress?: (buf: Buffer, opts: { params: Record<number, number> }, cb: (err: Error | null, out: Buffer) => void) => void;
  zstdDecompress?: (buf: Buffer, cb: (err: Error | null, out: Buffer) => void) => void;
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel?: number };
};

/**
 * node:zlib's zstd when this Node has it (no native add-on to load, maintained with Node),
 * else @mongodb-js/zstd, loaded only then. `prefer` lets the tests pin one side.
 */
export function zstdImpl(prefer: 'auto' | 'package' = 'auto'): ZstdImpl {
  const z = zlib as ZlibWithZstd;
  const { zstdCompress, zstdDecompress } = z;
  const level = z.constants.ZSTD_c_compressionLevel;
  if (prefer === 'auto' && zstdCompress && zstdDecompress && level !== undefined) {
    return {
      compress: (buffer) => new Promise((resolve, reject) => zstdCompress(buffer, { params: { [level]: ZSTD_LEVEL } }, (err, out) => (err ? reject(err) : resolve(out)))),
      decompress: (buffer) => new Promise((resolve, reject) => zstdDecompress(buffer, (err, out) => (err ? reject(err) : resolve(out)))),
    };
  }
  const pkg = require('@mongodb-js/zstd') as typeof import('@mongodb-js/zstd');
  return { compress: (buffer) => pkg.compress(buffer, ZSTD_LEVEL), decompress: (buffer) => pkg.decompress(buffer) };
}

export function zstdCodec(impl: ZstdImpl = zstdImpl()): KafkaCodec {
  return { compress: ({ buffer }) => impl.compress(buffer), decompress: (buffer) => impl.decompress(buffer) };
}

/** What is known of a batch that failed to decode; topic to lastOffset when they could be read. */
export interface UndecodableBatchContext {
  codec: string;
  codecId: number;
  compressedBytes: number;
  topic?: string;
  partition?: number;
  baseOffset?: string;
  lastOffset?: string;
}

/**
 * A compressed record batch this process cannot decode: corrupt bytes, or a codec id Kafka
 * does not define. Thrown from inside kafkajs's fetch, so it fails the whole fetch (every
 * partition that fetch covered waits with it).
 */
export class UndecodableBatchError extends AdapterError {
  declare readonly context: UndecodableBatchContext & Record<string, unknown>;

  constructor(context: UndecodableBatchContext, options?: { cause?: unknown }) {
    const where = context.topic === undefined ? '' : ` of ${context.topic} partition ${context.partition}`;
    const at = context.baseOffset === undefined ? '' : ` at offsets ${context.baseOffset}..${context.lastOffset}`;
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    // Retriable for kafkajs: it retries the fetch, then restarts the consumer, so the
    // process stays up (not ready, counted, alerting) until an operator skips the batch.
    super('UNDECODABLE_BATCH', `cannot decompress the ${context.codec} record batch${where}${at}${why}`, true, { ...context }, options);
  }
}

/** Listeners told of every batch that could not be decompressed (see {@link onUndecodableBatch}). */
const listeners = new Set<(err: UndecodableBatchError) => void>();

/**
 * Calls `listener` for every compressed batch this process fails to decode, before kafkajs
 * sees the error (kafkajs retries the fetch quietly at first). Returns the unsubscribe.
 */
export function onUndecodableBatch(listener: (err: UndecodableBatchError) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * `codec`, whose decompression failures become an {@link UndecodableBatchError} naming the
 * batch's place, told to {@link onUndecodableBatch} listeners. registerCodecs wraps each
 * codec so; exported for tests that install a codec of their own.
 */
export function guardCodec(name: string, codecId: number, codec: KafkaCodec): KafkaCodec {
  return {
    compress: codec.compress,
    async decompress(buffer) {
      try {
        return await codec.decompress(buffer);
      } catch (cause) {
        const err = new UndecodableBatchError({ codec: name, codecId, compressedBytes: buffer.length, ...locateBatch(buffer, codecId) }, { cause });
        for (const l of listeners) l(err);
        throw err;
      }
    },
  };
}

function unknownCodec(id: number): KafkaCodec {
  const fail = (): Promise<Buffer> => Promise.reject(new Error(`compression codec id ${id} is not defined by Kafka`));
  return { compress: fail, decompress: fail };
}

let registered = false;

/**
 * Installs gzip, Snappy, LZ4 and ZSTD into kafkajs's process-wide codec table. Idempotent;
 * {@link createKafka} calls it, so every client built here reads and can write all four. Code
 * that builds `new Kafka(...)` itself must call it once.
 */
export function registerCodecs(): void {
  if (registered) return;
  const table = CompressionCodecs as Record<number, () => KafkaCodec>;
  const codecs: Record<number, KafkaCodec> = {
    [CompressionTypes.GZIP]: guardCodec('gzip', CompressionTypes.GZIP, gzipCodec),
    [CompressionTypes.Snappy]: guardCodec('snappy', CompressionTypes.Snappy, snappyCodec),
    [CompressionTypes.LZ4]: guardCodec('lz4', CompressionTypes.LZ4, lz4Codec),
    [CompressionTypes.ZSTD]: guardCodec('zstd', CompressionTypes.ZSTD, zstdCodec()),
  };
  // Ids 5-7 are not defined by Kafka; kafkajs would read such a batch as uncompressed bytes.
  for (const id of [5, 6, 7]) codecs[id] = guardCodec(`unknown (id ${id})`, id, unknownCodec(id));
  for (const [id, codec] of Object.entries(codecs)) table[Number(id)] = () => codec;
  registered = true;
}

/** Producer-side names (`KAFKA_COMPRESSION`) to kafkajs's codec ids. */
export const COMPRESSION_TYPES: Record<'none' | CodecName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};
