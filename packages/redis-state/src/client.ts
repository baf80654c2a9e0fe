import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * The Redis client the evaluator and its tools use: one server (`redis://`, `rediss://`) or
 * a Redis Cluster (`redis+cluster://`, `rediss+cluster://`). Both speak the same commands;
 * every key of a partition carries the hash tag `{p<n>}`, so each script, MGET and
 * pipeline of one partition stays in one cluster slot.
 */
export type RedisClient = Redis | Cluster;

/** What a REDIS_URL names. */
export interface RedisTarget {
  /** True for `redis+cluster://` and `rediss+cluster://`. */
  cluster: boolean;
  tls: boolean;
  /** One server, or the cluster's seed nodes (the client discovers the rest). */
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** Database number (single server only: a cluster has only database 0). */
  db?: number;
}

const SCHEME = /^(rediss?)(\+cluster)?:\/\/(.*)$/;

/**
 * Parses a REDIS_URL: `redis[s]://[user:password@]host[:port][/db]` for one server,
 * `redis[s]+cluster://[user:password@]host:port[,host:port…]` for a cluster (seed nodes,
 * comma-separated). Pure.
 *
 * @throws RangeError naming what is wrong (never quoting the password).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = SCHEME.exec(url);
  if (!m) throw new RangeError('REDIS_URL must start with redis://, rediss://, redis+cluster:// or rediss+cluster://');
  const tls = m[1] === 'rediss';
  const cluster = m[2] !== undefined;
  let rest = m[3]!;
  const at = rest.lastIndexOf('@');
  let username: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    if (user) username = user;
    if (colon >= 0) password = decodeURIComponent(userinfo.slice(colon + 1));
  }
  const slash = rest.indexOf('/');
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const hosts = (slash >= 0 ? rest.slice(0, slash) : rest).split(',').map((h) => h.trim());
  if (!cluster && hosts.length > 1) throw new RangeError('REDIS_URL lists several hosts: use redis+cluster:// for a Redis Cluster');
  const nodes = hosts.map((h) => {
    const hp = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(h);
    if (!hp) throw new RangeError(`REDIS_URL: "${h}" is not a host[:port]`);
    return { host: hp[1]!.replace(/^\[|\]$/g, ''), port: hp[2] ? Number(hp[2]) : 6379 };
  });
  let db: number | undefined;
  if (path) {
    if (cluster) throw new RangeError('REDIS_URL: a Redis Cluster has only database 0, drop the /<db>');
    if (!/^\d+$/.test(path)) throw new RangeError(`REDIS_URL: the database must be a number, not "${path}"`);
    db = Number(path);
  }
  return { cluster, tls, nodes, ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}), ...(db !== undefined ? { db } : {}) };
}

export interface RedisClientOptions {
  /** CA certificates (PEM) trusted for `rediss://`. */
  tlsCa?: string[];
  /** Options for each connection (defaults: commands wait for a reconnect, auto-pipelining). */
  redis?: RedisOptions;
  /** Cluster-only options (defaults: reads and writes on masters, slots refreshed on failover). */
  cluster?: ClusterOptions;
}

/**
 * A client for `url` (see parseRedisUrl): ioredis's Redis for one server, its Cluster client
 * for a cluster. Commands issued while a master fails over wait and are re-routed (MOVED,
 * CLUSTERDOWN and TRYAGAIN are retried) instead of failing a batch mid-way.
 */
export function createRedisClient(url: string, opts: RedisClientOptions = {}): RedisClient {
  const t = parseRedisUrl(url);
  const base: RedisOptions = {
    maxRetriesPerRequest: null, // commands wait for a reconnect instead of failing a batch mid-way
    enableAutoPipelining: true,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    ...(t.tls ? { tls: opts.tlsCa ? { ca: opts.tlsCa } : {} } : {}),
    ...opts.redis,
  };
  if (!t.cluster) return new Redis({ ...base, host: t.nodes[0]!.host, port: t.nodes[0]!.port, ...(t.db !== undefined ? { db: t.db } : {}) });
  return new Cluster(t.nodes, {
    scaleReads: 'master',
    enableAutoPipelining: base.enableAutoPipelining ?? true,
    // A failover (kill -9 of a master) takes cluster-node-timeout plus an election: keep
    // retrying the slot's new owner meanwhile rather than failing the command.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    maxRedirections: 64,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    ...opts.cluster,
    redisOptions: { ...base, ...opts.cluster?.redisOptions },
  });
}

/** True when `client` is a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * The clients to run a per-server command on (SCAN, INFO, DBSIZE): the masters of a
 * cluster — SCAN on a cluster client would see one random node only — or the one server.
 */
export function mastersOf(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}
