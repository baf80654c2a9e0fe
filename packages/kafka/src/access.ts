import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Kafka } from 'kafkajs';
import type { KafkaConnection } from './client';
import { KafkaAccessError } from './errors';

/**
 * Node's codes for a TLS handshake that no retry can fix: an untrusted, expired or
 * mismatched certificate (OpenSSL's verify codes, ERR_TLS_CERT_ALTNAME_INVALID) or a
 * protocol mismatch (ERR_SSL_*).
 */
const TLS_FAILURE = /^ERR_(TLS|SSL)_|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

/** True when `err` is a TLS verification or protocol failure rather than a network one. */
export function isTlsVerificationError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_FAILURE.test(code);
}

/** `text` with every occurrence of `secret` masked: a broker's reply is quoted, never a password. */
function withoutSecret(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

/**
 * The start-up failure a kafkajs connection error stands for, when it is one that retrying
 * cannot fix (refused credentials, a SASL mechanism the broker does not offer); undefined
 * for anything else, which keeps kafkajs' own retry behaviour. Pure: for the services'
 * start-up check and its tests.
 */
export function describeKafkaAccessFailure(err: unknown, conn: Pick<KafkaConnection, 'brokers' | 'sasl'>): KafkaAccessError | undefined {
  const e = err as { name?: unknown; type?: unknown; message?: unknown } | null;
  if (!e || !conn.sasl) return undefined;
  const brokers = conn.brokers.join(',');
  const mechanism = conn.sasl.mechanism.toUpperCase();
  const said = withoutSecret(String(e.message ?? ''), conn.sasl.password);
  const context = { brokers, username: conn.sasl.username, mechanism };
  if (e.name === 'KafkaJSSASLAuthenticationError') {
    return new KafkaAccessError(
      'KAFKA_AUTH_FAILED',
      `Kafka authentication failed for user "${conn.sasl.username}" (${mechanism}) at ${brokers}: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the broker said: ${said})`,
      context,
      { cause: err },
    );
  }
  if (e.type === 'UNSUPPORTED_SASL_MECHANISM' || e.type === 'ILLEGAL_SASL_STATE') {
    return new KafkaAccessError(
      'KAFKA_AUTH_FAILED',
      `Kafka at ${brokers} does not accept SASL mechanism ${mechanism} for user "${conn.sasl.username}": check KAFKA_SASL_MECHANISM (the broker said: ${said})`,
      context,
      { cause: err },
    );
  }
  return undefined;
}

/** The error of a TLS handshake that cannot succeed, as the start-up failure it stands for. */
export function describeKafkaTlsFailure(err: unknown, broker: string): KafkaAccessError {
  const e = err as { message?: unknown; code?: unknown };
  return new KafkaAccessError(
    'KAFKA_TLS_FAILED',
    `TLS handshake with Kafka at ${broker} failed: ${String(e.message)} (${String(e.code)}): check KAFKA_TLS_CA_FILE (the CA that signed the brokers' certificates) and that ${broker} is a TLS listener`,
    { broker, tlsCode: e.code },
    { cause: err },
  );
}

/** One TLS handshake with `broker`, verified as kafkajs will verify it; resolves or rejects with the socket's error. */
function tlsHandshake(broker: string, ssl: KafkaConnection['ssl'], timeoutMs: number): Promise<void> {
  const i = broker.lastIndexOf(':');
  const host = broker.slice(0, i);
  const port = Number(broker.slice(i + 1));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      ...(ssl && ssl !== true && ssl.ca ? { ca: ssl.ca } : {}),
    });
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => done());
    socket.once('error', done);
  });
}

export interface KafkaAccessOptions {
  /** Bound on each TLS handshake probe. Default 5 s. */
  tlsTimeoutMs?: number;
}

/**
 * Start-up check that the brokers accept this client, so that wrong credentials or an
 * untrusted certificate stop a service at once with a message naming what failed and the
 * variables to check — instead of a retry loop or a bare kafkajs error. With TLS on, one
 * handshake per bootstrap broker verifies the certificate (kafkajs would retry those
 * failures for a minute); then an admin connection performs the SASL login. Network
 * failures (broker down, refused) are left to kafkajs' retry policy as before.
 *
 * @throws KafkaAccessError (`KAFKA_AUTH_FAILED`, `KAFKA_TLS_FAILED`), never quoting a password.
 */
export async function checkKafkaAccess(kafka: Kafka, conn: KafkaConnection, opts: KafkaAccessOptions = {}): Promise<void> {
  if (conn.ssl) {
    for (const broker of conn.brokers) {
      try {
        await tlsHandshake(broker, conn.ssl, opts.tlsTimeoutMs ?? 5000);
        break; // one verified handshake is enough: all brokers share a CA
      } catch (err) {
        if (isTlsVerificationError(err)) throw describeKafkaTlsFailure(err, broker);
      }
    }
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw describeKafkaAccessFailure(err, conn) ?? err;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
