import { isConfluentFramed, readConfluentSchemaId } from './index';

describe('Confluent framing', () => {
  it('recognises magic byte 0 plus a 4-byte schema id', () => {
    const framed = Buffer.from([0, 0, 0, 1, 0x2c, 0x02]);
    expect(isConfluentFramed(framed)).toBe(true);
    expect(readConfluentSchemaId(framed)).toBe(300);
  });

  it('does not mistake JSON or short values for framed Avro', () => {
    expect(isConfluentFramed(Buffer.from('{"a":1}'))).toBe(false);
    expect(isConfluentFramed(Buffer.from([0, 0, 0, 1]))).toBe(false);
    expect(readConfluentSchemaId(Buffer.from('{}'))).toBeNull();
  });
});
