import { RegistryUnavailableError, UndecodableError, UnknownSchemaError, AdapterError } from '@labelstream/kafka';
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
});
