import type { Type } from 'avsc';
import { UndecodableError } from './errors';

/**
 * Bounds on decoding one Avro body, checked before avsc allocates anything. avsc trusts the
 * lengths a body declares: an array block claiming 2³¹−1 items makes it allocate (and read
 * past the buffer) until the process runs out of memory, whatever the body's size.
 */
export interface AvroDecodeLimits {
  /** Deepest nesting of records, arrays, maps and unions in the value (default 32). */
  maxDepth: number;
  /** Most array items and map entries in one value, all collections together (default 100 000). */
  maxItems: number;
  /** Longest string or bytes value (default 1 MiB); the body's own length bounds it too. */
  maxStringBytes: number;
}

export const DEFAULT_AVRO_DECODE_LIMITS: Readonly<AvroDecodeLimits> = Object.freeze({ maxDepth: 32, maxItems: 100_000, maxStringBytes: 1024 * 1024 });

/** Why a body was refused: it cannot be what it claims (`MALFORMED`), or it is beyond a configured limit (`LIMIT_EXCEEDED`). */
export class AvroBoundsError extends Error {
  constructor(
    readonly kind: 'MALFORMED' | 'LIMIT_EXCEEDED',
    message: string,
  ) {
    super(message);
    this.name = 'AvroBoundsError';
  }
}

/** avsc's type objects, as far as the walk reads them. */
interface AnyType {
  typeName: string;
  fields?: Array<{ type: AnyType }>;
  itemsType?: AnyType;
  valuesType?: AnyType;
  types?: AnyType[];
  symbols?: string[];
  size?: number;
  underlyingType?: AnyType;
}

const MAX_VARINT_BYTES = 10;

/**
 * Walks `body` against the writer schema `type` without building any value, and throws
 * {@link AvroBoundsError} unless avsc can decode it within `limits`: every declared length
 * or count fits in the bytes that remain (at the least size its items can take), union and
 * enum indexes exist, varints end within 10 bytes, no map key is `__proto__` (avsc would set
 * the decoded object's prototype), and depth, item count and string size stay within the
 * limits. Cost is linear in the body plus the items it declares (at most `maxItems`).
 */
export function checkAvroBounds(type: Type, body: Buffer, limits: Readonly<AvroDecodeLimits> = DEFAULT_AVRO_DECODE_LIMITS): void {
  const minSizes = new Map<AnyType, number>();
  let pos = 0;
  let items = 0;

  const malformed = (what: string): never => {
    throw new AvroBoundsError('MALFORMED', `${what} at byte ${pos} of ${body.length}`);
  };
  const limit = (what: string): never => {
    throw new AvroBoundsError('LIMIT_EXCEEDED', what);
  };
  const need = (n: number, what: string): void => {
    if (n > body.length - pos) malformed(`${what} needs ${n} bytes, ${body.length - pos} remain`);
  };

  /** A zig-zag varint, as avsc reads it (float arithmetic past 28 bits). */
  const readLong = (what: string): number => {
    let shift = 1;
    let n = 0;
    for (let i = 0; ; i++) {
      if (i >= MAX_VARINT_BYTES) malformed(`${what} is a varint longer than ${MAX_VARINT_BYTES} bytes`);
      if (pos >= body.length) malformed(`${what} is cut off`);
      const b = body[pos++]!;
      n += (b & 0x7f) * shift;
      shift *= 128;
      if ((b & 0x80) === 0) break;
    }
    return n % 2 ? -(n + 1) / 2 : n / 2;
  };

  const readLength = (what: string, max: number): number => {
    const len = readLong(what);
    if (len < 0) malformed(`${what} is negative (${len})`);
    need(len, what);
    if (len > max) limit(`${what} of ${len} bytes exceeds the limit of ${max}`);
    return len;
  };

  /** Fewest bytes a value of `t` takes (0 for null and empty records); recursion counts as 0. */
  const minSize = (t: AnyType): number => {
    const known = minSizes.get(t);
    if (known !== undefined) return known;
    minSizes.set(t, 0);
    let n: number;
    switch (t.typeName) {
      case 'null':
        n = 0;
        break;
      case 'float':
        n = 4;
        break;
      case 'double':
        n = 8;
        break;
      case 'fixed':
        n = t.size ?? 0;
        break;
      case 'record':
      case 'error':
        n = (t.fields ?? []).reduce((sum, f) => sum + minSize(f.type), 0);
        break;
      case 'union:unwrapped':
      case 'union:wrapped':
        n = 1 + Math.min(...(t.types ?? []).map(minSize));
        break;
      default:
        n = t.typeName.startsWith('logical:') && t.underlyingType ? minSize(t.underlyingType) : 1;
    }
    minSizes.set(t, n);
    return n;
  };

  /** Array items or map entries: blocks of a count (and, when negative, a byte size) until a 0 count. */
  const walkBlocks = (what: 'array' | 'map', item: AnyType, depth: number): void => {
    const itemMin = minSize(item) + (what === 'map' ? 1 : 0);
    for (;;) {
      let n = readLong(`${what} block count`);
      if (n === 0) return;
      if (n < 0) {
        n = -n;
        if (readLong(`${what} block size`) < 0) malformed(`${what} block size is negative`);
      }
      if (itemMin > 0) need(n * itemMin, `${what} block of ${n} items`);
      items += n;
      if (items > limits.maxItems) limit(`${what} holds more than ${limits.maxItems} items`);
      for (let i = 0; i < n; i++) {
        if (what === 'map') {
          const len = readLength('map key', limits.maxStringBytes);
          if (len === 9 && body.toString('latin1', pos, pos + 9) === '__proto__') malformed('map key __proto__');
          pos += len;
        }
        walk(item, depth + 1);
      }
    }
  };

  const walk = (t: AnyType, depth: number): void => {
    if (depth > limits.maxDepth) limit(`value nested deeper than ${limits.maxDepth} levels`);
    switch (t.typeName) {
      case 'null':
        return;
      case 'boolean':
        need(1, 'boolean');
        pos += 1;
        return;
      case 'int':
      case 'long':
        readLong(t.typeName);
        return;
      case 'float':
        need(4, 'float');
        pos += 4;
        return;
      case 'double':
        need(8, 'double');
        pos += 8;
        return;
      case 'string':
      case 'bytes': {
        // Not `pos += readLength(…)`: that would add to pos as it was before the length was read.
        const len = readLength(`${t.typeName} length`, limits.maxStringBytes);
        pos += len;
        return;
      }
      case 'fixed':
        need(t.size ?? 0, 'fixed');
        pos += t.size ?? 0;
        return;
      case 'enum': {
        const index = readLong('enum index');
        if (!Number.isInteger(index) || index < 0 || index >= (t.symbols?.length ?? 0)) malformed(`enum index ${index} is out of range`);
        return;
      }
      case 'array':
        walkBlocks('array', t.itemsType!, depth);
        return;
      case 'map':
        walkBlocks('map', t.valuesType!, depth);
        return;
      case 'record':
      case 'error':
        for (const f of t.fields ?? []) walk(f.type, depth + 1);
        return;
      case 'union:unwrapped':
      case 'union:wrapped': {
        const index = readLong('union index');
        const branch = Number.isInteger(index) && index >= 0 ? t.types?.[index] : undefined;
        if (!branch) malformed(`union index ${index} is out of range`);
        walk(branch!, depth + 1);
        return;
      }
      default:
        if (t.typeName.startsWith('logical:') && t.underlyingType) return walk(t.underlyingType, depth);
        malformed(`unsupported Avro type ${t.typeName}`);
    }
  };

  walk(type as unknown as AnyType, 0);
}

/**
 * The adapter's error for a body that did not decode with schema `schemaId`: a bounds
 * violation keeps its kind in the context (`bound`), so the DLQ can say LIMIT_EXCEEDED.
 */
export function avroDecodeError(schemaId: number, cause: unknown): UndecodableError {
  const bound = cause instanceof AvroBoundsError ? { bound: cause.kind } : {};
  return new UndecodableError(`payload does not match schema id ${schemaId}: ${(cause as Error).message}`, { schemaId, ...bound }, { cause });
}
