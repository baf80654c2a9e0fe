import { parseRedisUrl } from './client';

describe('parseRedisUrl', () => {
  it('reads one server with credentials and a database', () => {
    expect(parseRedisUrl('rediss://labelstream:p%40ss@redis.internal:6380/2')).toEqual({
      cluster: false,
      tls: true,
      nodes: [{ host: 'redis.internal', port: 6380 }],
      username: 'labelstream',
      password: 'p@ss',
      db: 2,
    });
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({ cluster: false, tls: false, nodes: [{ host: '127.0.0.1', port: 6379 }] });
  });

  it('reads the seed nodes of a cluster', () => {
    expect(parseRedisUrl('redis+cluster://:secret@10.0.0.1:7001, 10.0.0.2:7002,[::1]:7003')).toEqual({
      cluster: true,
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7001 },
        { host: '10.0.0.2', port: 7002 },
        { host: '::1', port: 7003 },
      ],
      password: 'secret',
    });
    expect(parseRedisUrl('rediss+cluster://u:p@h:1').tls).toBe(true);
  });

  it('says what is wrong, never quoting the password', () => {
    expect(() => parseRedisUrl('http://x')).toThrow(/must start with redis:\/\/, rediss:\/\/, redis\+cluster:\/\//);
    expect(() => parseRedisUrl('redis://a:1,b:2')).toThrow(/use redis\+cluster:\/\//);
    expect(() => parseRedisUrl('redis+cluster://a:1/3')).toThrow(/only database 0/);
    expect(() => parseRedisUrl('redis://u:topsecret@a:port')).toThrow(/"a:port" is not a host\[:port\]/);
    expect(() => parseRedisUrl('redis://u:topsecret@a:port')).not.toThrow(/topsecret/);
  });
});
