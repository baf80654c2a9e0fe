import fc from 'fast-check';
import { Type, type Schema } from 'avsc';
import { avroTypeOptions, customerEventSchema, customerEventType } from '@labelstream/contracts';
import { AvroBoundsError, checkAvroBounds, DEFAULT_AVRO_DECODE_LIMITS, type AvroDecodeLimits } from './avro-bounds';

/** Zig-zag varint of `n`, as Avro writes longs. */
function varint(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  do {
    let b = z % 128;
    z = Math.floor(z / 128);
    if (z > 0) b |= 0x80;
    out.push(b);
  } while (z > 0);
  return Buffer.from(out);
}

/** The bounds error `check` throws, or undefined when it passes; anything else fails the test. */
function boundsError(type: Type, body: Buffer, limits?: AvroDecodeLimits): AvroBoundsError | undefined {
  try {
    checkAvroBounds(type, body, limits);
    return undefined;
  } catch (err) {
    if (err instanceof AvroBoundsError) return err;
    throw err;
  }
}

/**
 * avsc's verdict, only asked once the guard passed: it decodes within the buffer, or refuses
 * with an ordinary Error of its own (a long beyond 2^53: "potential precision loss").
 */
function avscDecodes(type: Type, body: Buffer): boolean {
  try {
    return type.decode(body, 0).offset !== -1;
  } catch (err) {
    return err instanceof Error && !(err instanceof RangeError);
  }
}

const ROOMY: AvroDecodeLimits = { maxDepth: 10_000, maxItems: 1_000_000, maxStringBytes: 1 << 24 };

const withArray = (items: Schema): Type => Type.forSchema({ type: 'record', name: 'Bomb', fields: [{ name: 'id', type: 'string' }, { name: 'items', type: { type: 'array', items } }] } as Schema);

describe('checkAvroBounds: the allocation bomb', () => {
  // The finding: a ~60-byte body whose array claims 2^31-1 items made ingest allocate until it aborted.
  const body = (count: number) => Buffer.concat([varint(3), Buffer.from('abc'), varint(count), Buffer.alloc(50, 2)]);

  it('refuses an array claiming 2^31-1 int items in 60 bytes as malformed, before avsc sees it', () => {
    const err = boundsError(withArray('int'), body(2 ** 31 - 1));
    expect(err?.kind).toBe('MALFORMED');
    expect(err?.message).toMatch(/array block of 2147483647 items needs 2147483647 bytes, 50 remain at byte 9 of 59/);
  });

  it('refuses the 20 M-item variant, and a negative-count block (with its byte size) the same way', () => {
    expect(boundsError(withArray('long'), body(20_000_000))?.kind).toBe('MALFORMED');
    const negative = Buffer.concat([varint(3), Buffer.from('abc'), varint(-(2 ** 31 - 1)), varint(55), Buffer.alloc(50, 2)]);
    expect(boundsError(withArray('int'), negative)?.kind).toBe('MALFORMED');
  });

  it('refuses zero-byte items (null, empty records) by the item limit, since the bytes cannot bound them', () => {
    expect(boundsError(withArray('null'), body(2 ** 31 - 1))?.kind).toBe('LIMIT_EXCEEDED');
    expect(boundsError(withArray({ type: 'record', name: 'Empty', fields: [] } as Schema), body(100_001))?.message).toMatch(/more than 100000 items/);
    expect(boundsError(withArray('null'), Buffer.concat([varint(3), Buffer.from('abc'), varint(1000), varint(0)]))).toBeUndefined();
  });

  it('refuses strings, bytes and map blocks longer than what remains, and huge varints', () => {
    const str = Type.forSchema('string');
    expect(boundsError(str, Buffer.concat([varint(2 ** 31 - 1), Buffer.from('x')]))?.kind).toBe('MALFORMED');
    expect(boundsError(str, Buffer.concat([varint(-5), Buffer.from('x')]))?.kind).toBe('MALFORMED');
    expect(boundsError(str, Buffer.concat([varint(4), Buffer.from('abcd')]), { ...DEFAULT_AVRO_DECODE_LIMITS, maxStringBytes: 3 })?.kind).toBe('LIMIT_EXCEEDED');
    expect(boundsError(Type.forSchema({ type: 'map', values: 'int' } as Schema), Buffer.concat([varint(2 ** 40), Buffer.alloc(8)]))?.kind).toBe('MALFORMED');
    expect(boundsError(Type.forSchema('long'), Buffer.alloc(11, 0xff))?.message).toMatch(/longer than 10 bytes/);
  });

  it('refuses a map key __proto__ (avsc would set the decoded object’s prototype)', () => {
    const map = Type.forSchema({ type: 'map', values: { type: 'map', values: 'int' } } as Schema);
    const body = Buffer.concat([varint(1), varint(9), Buffer.from('__proto__'), varint(1), varint(1), Buffer.from('x'), varint(2), varint(0), varint(0)]);
    expect(boundsError(map, body)?.kind).toBe('MALFORMED');
  });

  it('refuses values nested deeper than the limit (a recursive schema of one byte per level)', () => {
    const list = Type.forSchema({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] } as Schema, avroTypeOptions() as never);
    const deep = Buffer.concat([Buffer.alloc(100_000, 2), Buffer.from([0])]); // 100 000 × "branch Node", then null
    expect(boundsError(list, deep)?.message).toMatch(/nested deeper than 32 levels/);
    expect(boundsError(list, Buffer.from([2, 2, 2, 0]))).toBeUndefined();
  });

  it('passes our own canonical events', () => {
    const value = customerEventType.random();
    expect(boundsError(customerEventType, customerEventType.toBuffer(value))).toBeUndefined();
    expect(customerEventSchema).toBeDefined();
  });
});

// ---- random schemas ----------------------------------------------------------------------

type Shape =
  | { kind: 'primitive'; name: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' }
  | { kind: 'fixed'; size: number }
  | { kind: 'enum'; symbols: number }
  | { kind: 'array'; items: Shape }
  | { kind: 'map'; values: Shape }
  | { kind: 'record'; fields: Shape[]; recursive: boolean }
  | { kind: 'optional'; of: Shape };

const shapeArb: fc.Arbitrary<Shape> = fc.letrec<{ shape: Shape }>((tie) => ({
  shape: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'shape' },
    fc.record({ kind: fc.constant('primitive' as const), name: fc.constantFrom('null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string') }),
    fc.record({ kind: fc.constant('fixed' as const), size: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant('enum' as const), symbols: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ kind: fc.constant('array' as const), items: tie('shape') }),
    fc.record({ kind: fc.constant('map' as const), values: tie('shape') }),
    fc.record({ kind: fc.constant('record' as const), fields: fc.array(tie('shape'), { maxLength: 4 }), recursive: fc.boolean() }),
    fc.record({ kind: fc.constant('optional' as const), of: tie('shape') }),
  ),
})).shape;

/** An Avro schema for `shape`; names are unique, a recursive record refers to itself through ["null", Self]. */
function toSchema(shape: Shape, names = { n: 0 }): Schema {
  switch (shape.kind) {
    case 'primitive':
      return shape.name;
    case 'fixed':
      return { type: 'fixed', name: `F${names.n++}`, size: shape.size } as Schema;
    case 'enum':
      return { type: 'enum', name: `E${names.n++}`, symbols: Array.from({ length: shape.symbols }, (_, i) => `S${i}`) } as Schema;
    case 'array':
      return { type: 'array', items: toSchema(shape.items, names) } as Schema;
    case 'map':
      return { type: 'map', values: toSchema(shape.values, names) } as Schema;
    case 'optional': {
      const inner = toSchema(shape.of, names);
      // A union may not hold null twice nor another union directly.
      return shape.of.kind === 'optional' || (shape.of.kind === 'primitive' && shape.of.name === 'null') ? inner : (['null', inner] as Schema);
    }
    case 'record': {
      const name = `R${names.n++}`;
      const fields = shape.fields.map((f, i) => ({ name: `f${i}`, type: toSchema(f, names) }));
      if (shape.recursive) fields.push({ name: 'next', type: ['null', name] as Schema });
      return { type: 'record', name, fields } as Schema;
    }
  }
}

/**
 * A valid body of `type` (avsc's own random value). avsc's random recursion through a
 * self-referencing record can, rarely, exhaust the stack: such a draw is skipped.
 */
function randomBody(type: Type): Buffer {
  try {
    return type.toBuffer(type.random());
  } catch (err) {
    fc.pre(!(err instanceof RangeError));
    throw err;
  }
}

const typeArb = shapeArb.map((s) => Type.forSchema(toSchema(s), { wrapUnions: 'never' }));

/** A varint claiming far more than any body holds. */
const hostileCount = fc.constantFrom(2 ** 31 - 1, -(2 ** 31 - 1), 20_000_000, 2 ** 53, 1_000_001, 100_001);

describe('checkAvroBounds: fuzz (fast-check)', () => {
  it('passes every value avsc itself encodes, for random schemas (no false refusals)', () => {
    fc.assert(
      fc.property(typeArb, fc.integer(), (type, seed) => {
        void seed;
        const body = randomBody(type);
        const err = boundsError(type, body, ROOMY);
        if (err) throw new Error(`${err.message} for ${JSON.stringify(type.schema())} / ${body.toString('hex')}`);
      }),
      { numRuns: 300 },
    );
  });

  it('over arbitrary bytes, agrees with avsc: when the guard passes, avsc decodes within the buffer', () => {
    const fixed = [customerEventType, withArray('int'), withArray('null'), Type.forSchema({ type: 'map', values: ['null', 'string'] } as Schema, { wrapUnions: 'never' })];
    fc.assert(
      fc.property(fc.constantFrom(...fixed), fc.uint8Array({ maxLength: 256 }), (type, bytes) => {
        const body = Buffer.from(bytes);
        if (boundsError(type, body) === undefined) expect(avscDecodes(type, body)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('over random schemas with hostile bodies (huge counts and lengths spliced into valid ones), never lets a bomb through', () => {
    fc.assert(
      fc.property(typeArb, fc.nat(), hostileCount, fc.uint8Array({ maxLength: 64 }), (type, at, count, tail) => {
        const valid = randomBody(type);
        const cut = valid.length === 0 ? 0 : at % (valid.length + 1);
        const body = Buffer.concat([valid.subarray(0, cut), varint(count), Buffer.from(tail)]);
        // Either refused, or avsc decodes it within the buffer: never an allocation past the body.
        if (boundsError(type, body) === undefined) expect(avscDecodes(type, body)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('over random schemas and random bytes, the guard never throws anything but its own error', () => {
    fc.assert(
      fc.property(typeArb, fc.uint8Array({ maxLength: 128 }), (type, bytes) => {
        const body = Buffer.from(bytes);
        if (boundsError(type, body) === undefined) expect(avscDecodes(type, body)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps memory flat while refusing bombs', () => {
    const type = withArray('int');
    const bomb = Buffer.concat([varint(3), Buffer.from('abc'), varint(2 ** 31 - 1), Buffer.alloc(50, 2)]);
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let refused = 0;
    for (let i = 0; i < 5000; i++) if (boundsError(type, bomb)?.kind === 'MALFORMED') refused++;
    expect(refused).toBe(5000);
    const grownMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    expect(grownMiB).toBeLessThan(64);
  });
});
