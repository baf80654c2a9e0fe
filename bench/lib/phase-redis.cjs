'use strict';
/**
 * The Redis ceilings: redis-benchmark's SET/GET rates against the Redis in use (with and
 * without pipelining; on keys of the run's own prefix, deleted after), and the rate at
 * which the evaluator's own COMMIT script can store customers when nothing else runs
 * (batches as the evaluator sends them, several partitions in parallel).
 */
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const pkgs = require('./pkgs.cjs');
const { deleteKeys } = require('./pipeline.cjs');

const run = promisify(execFile);

function hostPort(url) {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port || '6379', db: u.pathname && u.pathname.length > 1 ? u.pathname.slice(1) : '0', password: u.password ? decodeURIComponent(u.password) : undefined };
}

async function redisBenchmark(url, prefix, requests, pipeline, args) {
  const { host, port, db, password } = hostPort(url);
  const base = ['-h', host, '-p', port, '--dbnum', db, '--csv', '-n', String(requests), '-r', '100000', '-P', String(pipeline), '-c', '50'];
  if (password) base.push('-a', password);
  const { stdout } = await run('redis-benchmark', [...base, ...args], { timeout: 120_000, maxBuffer: 1 << 20 });
  // CSV: a header, then "<command>","<rps>","<avg ms>",…
  const fields = (stdout.trim().split('\n').pop() ?? '').split('","');
  const rps = Number(fields[1]);
  return Number.isFinite(rps) ? Math.round(rps) : null;
}

/** A typical state value of the default rules (about the median size the pipeline writes). */
function sampleState() {
  const ids = Array.from({ length: 8 }, (_, i) => `"evt-${i}-0123456789abcdef":${i * 1000}`).join(',');
  return `{"v":1,"c":1767225600000,"l":{"customer":1000,"engaged":2000},"d":{${ids}},"f":{"a":["w",40905,2],"b":4,"c":["w",40905,31200],"d":["w",163620,3]}}`;
}

async function commitCeiling(redis, keyPrefix, partitions, seconds = 4, batch = 200) {
  const { PartitionStore } = pkgs.redisState;
  const state = sampleState();
  const stores = [];
  for (let p = 0; p < partitions; p++) {
    const s = new PartitionStore(redis, keyPrefix, p);
    await s.claim();
    stores.push(s);
  }
  let items = 0;
  let commits = 0;
  const versions = new Map();
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    stores.map(async (store, p) => {
      let n = 0;
      while (Date.now() < deadline) {
        const ids = Array.from({ length: batch }, () => `rc-${p}-${n++ % 5000}`);
        const loaded = await store.load(ids);
        const list = ids.map((id) => ({ customerId: id, expectedVersion: loaded.get(id).version, state, dueAt: Date.now() + 86_400_000 }));
        await store.commit(list);
        for (const id of ids) versions.set(id, (versions.get(id) ?? 0) + 1);
        items += list.length;
        commits++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  return { customers_per_s: Math.round(items / elapsed), commits_per_s: Math.round(commits / elapsed), batch, partitions, note: 'MGET + COMMIT script per batch, no decisions' };
}

async function redisCeiling({ env, redis, names, opts, log }) {
  const prefix = `${names.keyPrefix}-rb`;
  const value = 'x'.repeat(400);
  const out = { redis_benchmark: {} };
  try {
    const n = opts.redisRequests;
    out.redis_benchmark.set_p16 = await redisBenchmark(env.redisUrl, prefix, n, 16, ['SET', `${prefix}:__rand_int__`, value]);
    out.redis_benchmark.get_p16 = await redisBenchmark(env.redisUrl, prefix, n, 16, ['GET', `${prefix}:__rand_int__`]);
    out.redis_benchmark.set_p1 = await redisBenchmark(env.redisUrl, prefix, Math.round(n / 2), 1, ['SET', `${prefix}:__rand_int__`, value]);
    out.redis_benchmark.get_p1 = await redisBenchmark(env.redisUrl, prefix, Math.round(n / 2), 1, ['GET', `${prefix}:__rand_int__`]);
    out.redis_benchmark.note = `requests/s, 50 clients, 400-byte values, -P 16 (pipelined) and -P 1`;
  } catch (err) {
    out.redis_benchmark = { error: `redis-benchmark failed: ${err.message.split('\n')[0]}` };
    log(`  ${out.redis_benchmark.error}`);
  } finally {
    await deleteKeys(redis, `${prefix}:*`);
  }
  try {
    out.commit_script = await commitCeiling(redis, `${names.keyPrefix}-rc`, opts.partitions);
  } finally {
    await deleteKeys(redis, `${names.keyPrefix}-rc:*`);
  }
  return out;
}

module.exports = { redisCeiling };
