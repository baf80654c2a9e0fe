'use strict';
/**
 * The three built services as child processes, as an operator runs them: environment
 * variables in, logs to bench/results/tmp/, readiness awaited with a bound, metrics
 * scraped from their HTTP port.
 */
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./system.cjs');

const testkit = () => require('./pkgs.cjs').testkit;

const TMP = path.join(ROOT, 'bench', 'results', 'tmp');

/** Every service this process started and has not stopped: stopped on failure or a signal. */
const running = new Set();

/** Stops every service still running (bounded); for failures and Ctrl-C. */
async function stopAll(ms = 10_000) {
  await Promise.all([...running].map((s) => s.stop(ms).catch(() => undefined)));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `services/<name>/dist/main.js` with `env` through the spawn helper the tests and the
 * fault run use (packages/testkit), logging to bench/results/tmp/<tag>-<name>.log, and waits
 * (up to 60 s) until /readyz answers 200. `nodeArgs` go before the script (e.g. --cpu-prof).
 */
async function startService(name, env, { tag, nodeArgs = [] } = {}) {
  fs.mkdirSync(TMP, { recursive: true });
  const logFile = path.join(TMP, `${tag ?? 'bench'}-${name}.log`);
  const proc = await testkit().spawnService(name, { env, logFile, nodeArgs, waitReady: false });
  const svc = {
    name,
    port: proc.port,
    pid: proc.child.pid,
    logFile,
    metrics: () => proc.metrics(),
    /** SIGTERM, then SIGKILL after `ms`. */
    async stop(ms = 15_000) {
      await proc.stop(ms);
    },
    alive: () => proc.alive(),
  };
  running.add(svc);
  void proc.exited.then(() => running.delete(svc));
  try {
    await proc.waitReady(60_000);
  } catch (err) {
    await svc.stop(2000);
    throw new Error(`${err.message}; see ${logFile}:\n${tail(logFile)}`);
  }
  return svc;
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Sum of a metric's samples in Prometheus text, optionally filtered by label values. */
function metricSum(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Quantile estimate from a Prometheus histogram (linear within the bucket, as
 * histogram_quantile does). Coarse: only as good as the buckets.
 */
function histogramQuantile(text, name, q, labels = {}, before = '') {
  const buckets = [];
  // Counts of an earlier scrape are subtracted: the quantile of what happened in between.
  const earlier = new Map();
  for (const line of before.split('\n')) {
    if (!line.startsWith(name + '_bucket{')) continue;
    earlier.set(line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '_bucket{')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const key = line.slice(0, line.lastIndexOf(' '));
    buckets.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)) - (earlier.get(key) ?? 0)]);
  }
  // Several series (e.g. per cause) add up per bound.
  const merged = new Map();
  for (const [le, n] of buckets) merged.set(le, (merged.get(le) ?? 0) + n);
  const sorted = [...merged.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of sorted) {
    if (n >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevN)) / Math.max(1, n - prevN);
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

/**
 * What the services' own histograms say about a phase (the difference between two scrapes):
 * batch durations and sizes per service, Redis round trips of the evaluator.
 */
function serviceDiagnostics(before, after) {
  const ms = (v) => (v == null ? null : Math.round(v * 10000) / 10);
  const out = {};
  for (const svc of ['ingest', 'evaluator', 'publisher']) {
    const a = after[svc];
    const b = before?.[svc] ?? '';
    out[svc] = {
      batch_ms: { p50: ms(histogramQuantile(a, 'labelstream_batch_duration_seconds', 0.5, {}, b)), p99: ms(histogramQuantile(a, 'labelstream_batch_duration_seconds', 0.99, {}, b)) },
      batch_size: { p50: round1(histogramQuantile(a, 'labelstream_batch_size', 0.5, {}, b)), p99: round1(histogramQuantile(a, 'labelstream_batch_size', 0.99, {}, b)) },
    };
  }
  const e = after.evaluator;
  const eb = before?.evaluator ?? '';
  out.evaluator.redis_ms = {};
  for (const op of ['load', 'commit', 'outbox_ack']) {
    out.evaluator.redis_ms[op] = { p50: ms(histogramQuantile(e, 'labelstream_redis_script_duration_seconds', 0.5, { op }, eb)), p99: ms(histogramQuantile(e, 'labelstream_redis_script_duration_seconds', 0.99, { op }, eb)) };
  }
  return out;
}

function round1(v) {
  return v == null ? null : Math.round(v);
}

module.exports = { startService, stopAll, metricSum, histogramQuantile, serviceDiagnostics, sleep, TMP };
