import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { checkRedisAccess, describeRedisAccessFailure, redactRedisUrl } from './access';
import { RedisAccessError } from './errors';

const PASSWORD = 'p4ssw0rd-not-for-logs';
const URL_WITH_PASSWORD = `rediss://labelstream:${PASSWORD}@127.0.0.1:26380`;

function replyError(message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' });
}

describe('redactRedisUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactRedisUrl(URL_WITH_PASSWORD)).toBe('rediss://labelstream:***@127.0.0.1:26380');
    expect(redactRedisUrl('redis://127.0.0.1:6380/2')).toBe('redis://127.0.0.1:6380/2');
    expect(redactRedisUrl('not a url')).not.toContain('not a url');
    expect(redactRedisUrl(`redis+cluster://labelstream:${PASSWORD}@10.0.0.1:7001,10.0.0.2:7002`)).toBe('redis+cluster://labelstream:***@10.0.0.1:7001,10.0.0.2:7002');
    expect(redactRedisUrl('redis+cluster://10.0.0.1:7001,10.0.0.2:7002')).toBe('redis+cluster://10.0.0.1:7001,10.0.0.2:7002');
  });
});

describe('describeRedisAccessFailure', () => {
  it('names the user and REDIS_URL for WRONGPASS, never the password', () => {
    const err = describeRedisAccessFailure(replyError(`WRONGPASS invalid username-password pair or user is disabled. ${PASSWORD}`), URL_WITH_PASSWORD)!;
    expect(err).toBeInstanceOf(RedisAccessError);
    expect(err.code).toBe('REDIS_AUTH_FAILED');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^Redis authentication failed for user "labelstream" at rediss:\/\/labelstream:\*\*\*@127\.0\.0\.1:26380: check the user and password in REDIS_URL/);
    expect(err.message).not.toContain(PASSWORD);
    expect(JSON.stringify(err.context)).not.toContain(PASSWORD);
  });

  it('says how to authenticate on NOAUTH', () => {
    const err = describeRedisAccessFailure(replyError('NOAUTH Authentication required.'), 'rediss://127.0.0.1:26380')!;
    expect(err.code).toBe('REDIS_AUTH_FAILED');
    expect(err.message).toContain('requires authentication: put the ACL user and password in REDIS_URL');
  });

  it('points at REDIS_TLS_CA_FILE for certificate failures', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const err = describeRedisAccessFailure(tls, URL_WITH_PASSWORD)!;
    expect(err.code).toBe('REDIS_TLS_FAILED');
    expect(err.message).toContain('REDIS_TLS_CA_FILE');
    expect(err.message).not.toContain(PASSWORD);
  });

  it('leaves network errors to the reconnect loop', () => {
    expect(describeRedisAccessFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), URL_WITH_PASSWORD)).toBeUndefined();
  });
});

describe('checkRedisAccess', () => {
  function fakeRedis(ping: () => Promise<string>): Redis & EventEmitter {
    return Object.assign(new EventEmitter(), { ping }) as unknown as Redis & EventEmitter;
  }

  it('resolves on PONG and leaves no listener behind', async () => {
    const redis = fakeRedis(async () => 'PONG');
    await checkRedisAccess(redis, URL_WITH_PASSWORD);
    expect(redis.listenerCount('error')).toBe(0);
  });

  it('fails at once on a refused login reported as a connection error', async () => {
    const redis = fakeRedis(() => new Promise<string>(() => undefined)); // PING waits for a reconnect
    const check = checkRedisAccess(redis, URL_WITH_PASSWORD, { timeoutMs: 60_000 });
    redis.emit('error', replyError('WRONGPASS invalid username-password pair or user is disabled.'));
    await expect(check).rejects.toMatchObject({ code: 'REDIS_AUTH_FAILED' });
    expect(redis.listenerCount('error')).toBe(0);
  });

  it('fails when PING itself is refused', async () => {
    const redis = fakeRedis(async () => Promise.reject(replyError('NOPERM this user has no permissions to run the \'ping\' command')));
    await expect(checkRedisAccess(redis, URL_WITH_PASSWORD)).rejects.toMatchObject({ code: 'REDIS_AUTH_FAILED' });
  });

  it('gives an unreachable Redis the time bound, then names it without the password', async () => {
    const redis = fakeRedis(() => new Promise<string>(() => undefined));
    const check = checkRedisAccess(redis, URL_WITH_PASSWORD, { timeoutMs: 50 });
    redis.emit('error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:26380'), { code: 'ECONNREFUSED' }));
    const err = (await check.catch((e: unknown) => e)) as RedisAccessError;
    expect(err.code).toBe('REDIS_UNREACHABLE');
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('did not answer within 50 ms (last error: connect ECONNREFUSED 127.0.0.1:26380)');
    expect(err.message).not.toContain(PASSWORD);
  });
});
