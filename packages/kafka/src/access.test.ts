import { checkKafkaAccess, describeKafkaAccessFailure, describeKafkaTlsFailure, isTlsVerificationError } from './access';
import type { Kafka } from 'kafkajs';
import { KafkaAccessError } from './errors';

const PASSWORD = 's3cret-password-value';
const conn = {
  brokers: ['127.0.0.1:29092', '127.0.0.1:29094'],
  clientId: 't',
  sasl: { mechanism: 'scram-sha-512' as const, username: 'labelstream', password: PASSWORD },
};

function saslError(message: string): Error {
  return Object.assign(new Error(message), { name: 'KafkaJSSASLAuthenticationError', retriable: false });
}

describe('describeKafkaAccessFailure', () => {
  it('names the user, mechanism, brokers and variables of a refused login, never the password', () => {
    // a broker that (wrongly) quoted the password back must not get it into our message
    const err = describeKafkaAccessFailure(saslError(`SASL SCRAM SHA512 authentication failed: bad password ${PASSWORD}`), conn)!;
    expect(err).toBeInstanceOf(KafkaAccessError);
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^Kafka authentication failed for user "labelstream" \(SCRAM-SHA-512\) at 127\.0\.0\.1:29092,127\.0\.0\.1:29094/);
    expect(err.message).toContain('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    expect(err.message).not.toContain(PASSWORD);
    expect(JSON.stringify(err.context)).not.toContain(PASSWORD);
  });

  it('points at KAFKA_SASL_MECHANISM when the broker does not offer it', () => {
    const protocolError = Object.assign(new Error('The broker does not support the requested SASL mechanism'), { name: 'KafkaJSProtocolError', type: 'UNSUPPORTED_SASL_MECHANISM' });
    const err = describeKafkaAccessFailure(protocolError, { ...conn, sasl: { ...conn.sasl, mechanism: 'scram-sha-256' } })!;
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.message).toContain('does not accept SASL mechanism SCRAM-SHA-256');
    expect(err.message).toContain('KAFKA_SASL_MECHANISM');
  });

  it('leaves network failures and clients without SASL to the retry policy', () => {
    const closed = Object.assign(new Error('Closed connection'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    expect(describeKafkaAccessFailure(closed, conn)).toBeUndefined();
    expect(describeKafkaAccessFailure(saslError('x'), { brokers: conn.brokers })).toBeUndefined();
    expect(describeKafkaAccessFailure(undefined, conn)).toBeUndefined();
  });
});

describe('TLS failures', () => {
  it('tells certificate and protocol failures from network ones', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER']) {
      expect(isTlsVerificationError(Object.assign(new Error(code), { code }))).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', undefined]) {
      expect(isTlsVerificationError(Object.assign(new Error('x'), { code }))).toBe(false);
    }
  });

  it('names the broker, the reason and KAFKA_TLS_CA_FILE', () => {
    const err = describeKafkaTlsFailure(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), '127.0.0.1:29092');
    expect(err.code).toBe('KAFKA_TLS_FAILED');
    expect(err.message).toBe(
      "TLS handshake with Kafka at 127.0.0.1:29092 failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN): check KAFKA_TLS_CA_FILE (the CA that signed the brokers' certificates) and that 127.0.0.1:29092 is a TLS listener",
    );
  });
});

describe('checkKafkaAccess', () => {
  function fakeKafka(connect: () => Promise<void>): { kafka: Kafka; disconnected: () => boolean } {
    let disconnected = false;
    const admin = { connect, disconnect: async () => void (disconnected = true) };
    return { kafka: { admin: () => admin } as unknown as Kafka, disconnected: () => disconnected };
  }

  it('resolves when the admin client connects, and disconnects it', async () => {
    const f = fakeKafka(async () => undefined);
    await expect(checkKafkaAccess(f.kafka, conn)).resolves.toBeUndefined();
    expect(f.disconnected()).toBe(true);
  });

  it('turns a refused login into KAFKA_AUTH_FAILED', async () => {
    const f = fakeKafka(async () => Promise.reject(saslError('SASL SCRAM SHA512 authentication failed: invalid credentials')));
    await expect(checkKafkaAccess(f.kafka, conn)).rejects.toMatchObject({ code: 'KAFKA_AUTH_FAILED' });
    expect(f.disconnected()).toBe(true);
  });

  it('passes other errors through unchanged', async () => {
    const original = new Error('Connection timeout');
    const f = fakeKafka(async () => Promise.reject(original));
    await expect(checkKafkaAccess(f.kafka, conn)).rejects.toBe(original);
  });
});
