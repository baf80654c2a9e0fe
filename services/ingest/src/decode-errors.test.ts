import { Type, type Schema } from 'avsc';
import { avroDecodeError, checkAvroBounds, RegistryUnavailableError, UndecodableError, UnknownSchemaError, AdapterError } from '@labelstream/kafka';
import { rejectionForDecodeError } from './decode-errors';

describe('rejectionForDecodeError', () => {
  it('an unknown schema id is UNKNOWN_SCHEMA, naming the id', () => {
    expect(rejectionForDecodeError(new UnknownSchemaError(77))).toEqual({
      ok: false,
      reason: 'UNKNOWN_SCHEMA',
      message: "the registry does not know the value's schema id (schema id 77)",
    });
  });

  it('bytes that do not decode are MALFORMED_AVRO, without repeating the decoder message', () => {
    const r = rejectionForDecodeError(new UndecodableError('payload does not match schema id 5: secret@example.com', { schemaId: 5 }));
    expect(r).toMatchObject({ ok: false, reason: 'MALFORMED_AVRO' });
    expect(r?.message).toContain('schema id 5');
    expect(r?.message).not.toContain('secret');
  });

  it('a registry outage or any other error is not the message’s fault: null (retry)', () => {
    expect(rejectionForDecodeError(new RegistryUnavailableError('http://registry'))).toBeNull();
    expect(rejectionForDecodeError(new Error('boom'))).toBeNull();
    expect(rejectionForDecodeError(new AdapterError('SOMETHING_ELSE', 'x', false))).toBeNull();
    expect(rejectionForDecodeError(undefined)).toBeNull();
  });

  describe('Avro allocation bombs (issue 14) are dead-lettered, never decoded', () => {
    /** What Registry.decodeWithWriter throws for `body` under `schema`: the guard runs before avsc. */
    function decodeError(schema: Schema, body: Buffer): unknown {
      try {
        checkAvroBounds(Type.forSchema(schema), body);
      } catch (cause) {
        return avroDecodeError(12, cause);
      }
      throw new Error('the guard let the bomb through');
    }
    const withArray = (items: Schema): Schema => ({ type: 'record', name: 'Order', fields: [{ name: 'items', type: { type: 'array', items } }] }) as Schema;
    // zig-zag varint of 2^31-1, then ~55 bytes
    const bomb = Buffer.concat([Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(55, 2)]);

    it('an array claiming 2^31-1 items in 60 bytes is MALFORMED_AVRO', () => {
      expect(rejectionForDecodeError(decodeError(withArray('int'), bomb))).toMatchObject({ reason: 'MALFORMED_AVRO', message: expect.stringContaining('schema id 12') as unknown });
    });

    it('an array of 2^31-1 zero-byte items (null) is LIMIT_EXCEEDED', () => {
      expect(rejectionForDecodeError(decodeError(withArray('null'), bomb))).toMatchObject({ reason: 'LIMIT_EXCEEDED' });
    });

    it('a string claiming 2^31-1 bytes is MALFORMED_AVRO', () => {
      expect(rejectionForDecodeError(decodeError('string', bomb))).toMatchObject({ reason: 'MALFORMED_AVRO' });
    });
  });
});
