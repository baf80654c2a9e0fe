import { parseRedisUrl, type RedisClient } from './client';
import { RedisAccessError } from './errors';

/** Node's codes for a TLS handshake no retry can fix (see the Kafka adapter's twin). */
const TLS_FAILURE = /^ERR_(TLS|SSL)_|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

/** `url` with its password masked, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    parseRedisUrl(url); // refuse what is not a Redis URL at all
    // mask the userinfo's password: everything between the first ':' after '//' and the last '@'
    return url.replace(/^([a-z+]+:\/\/[^:@/]*:).*@/, (_, head: string) => `${head}***@`).replace(/\/$/, '');
  } catch {
    return '<unparseable REDIS_URL>';
  }
}

function userOf(url: string): string {
  try {
    return parseRedisUrl(url).username ?? 'default';
  } catch {
    return 'default';
  }
}

/** The error's message with the password of `url` masked, should a server ever quote it. */
function messageOf(err: unknown, url: string): string {
  const text = String((err as { message?: unknown } | null)?.message ?? err);
  let secret = '';
  try {
    secret = parseRedisUrl(url).password ?? '';
  } catch {
    // no password to mask in an unparseable URL
  }
  return secret ? text.split(secret).join('***') : text;
}

/**
 * The start-up failure a Redis client error stands for when retrying cannot fix it:
 * refused credentials (WRONGPASS, NOAUTH, NOPERM) or a TLS handshake that cannot succeed;
 * undefined for network errors (Redis down or restarting). Pure, and never quotes the
 * password of `url`.
 */
export function describeRedisAccessFailure(err: unknown, url: string): RedisAccessError | undefined {
  const e = err as { message?: unknown; code?: unknown } | null;
  if (!e) return undefined;
  const where = redactRedisUrl(url);
  const said = messageOf(err, url);
  const user = userOf(url);
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(said)) {
    const what = said.startsWith('NOAUTH')
      ? `Redis at ${where} requires authentication: put the ACL user and password in REDIS_URL (rediss://user:password@host:port)`
      : `Redis authentication failed for user "${user}" at ${where}: check the user and password in REDIS_URL`;
    return new RedisAccessError('REDIS_AUTH_FAILED', `${what} (Redis said: ${said})`, false, { url: where, user }, { cause: err });
  }
  if (typeof e.code === 'string' && TLS_FAILURE.test(e.code)) {
    return new RedisAccessError(
      'REDIS_TLS_FAILED',
      `TLS handshake with Redis at ${where} failed: ${said} (${e.code}): check REDIS_TLS_CA_FILE (the CA that signed the server's certificate) and that the port speaks TLS (rediss://)`,
      false,
      { url: where, tlsCode: e.code },
      { cause: err },
    );
  }
  return undefined;
}

export interface RedisAccessOptions {
  /** How long Redis may stay unreachable before start-up gives up. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Start-up check that Redis answers a PING as the configured user, so that wrong
 * credentials or an untrusted certificate stop the service at once with a message naming
 * what failed — ioredis itself would reconnect forever. A Redis that is merely down gets
 * `timeoutMs` to come back (a restart during a deploy), then fails as REDIS_UNREACHABLE.
 *
 * @throws RedisAccessError (`REDIS_AUTH_FAILED`, `REDIS_TLS_FAILED`, `REDIS_UNREACHABLE`), never quoting a password.
 */
export function checkRedisAccess(redis: RedisClient, url: string, opts: RedisAccessOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const where = redactRedisUrl(url);
  return new Promise((resolve, reject) => {
    let last: unknown;
    const onError = (err: unknown): void => {
      last = err;
      const fatal = describeRedisAccessFailure(err, url);
      if (fatal) finish(fatal);
    };
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('node error', onError);
      if (err) reject(err);
      else resolve();
    };
    const unreachable = (why: string, cause?: unknown): RedisAccessError =>
      new RedisAccessError('REDIS_UNREACHABLE', `Redis at ${where} ${why} (check REDIS_URL and that Redis runs)`, true, { url: where }, { cause });
    // finish() runs only from callbacks, so it always sees the timer
    const timer = setTimeout(() => finish(unreachable(`did not answer within ${timeoutMs} ms${last ? ` (last error: ${messageOf(last, url)})` : ''}`)), timeoutMs);
    redis.on('error', onError);
    redis.on('node error', onError); // a cluster client reports each node's refusal apart
    redis.ping().then(
      () => finish(),
      (err: unknown) => finish(describeRedisAccessFailure(err, url) ?? unreachable(`refused PING: ${messageOf(err, url)}`, err)),
    );
  });
}
