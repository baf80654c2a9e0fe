'use strict';
/**
 * Redis memory per tracked customer with the default rules, at growing customer counts.
 *
 * Pushing a million customers through the pipeline would take longer than the whole
 * benchmark, so the customers are synthetic but their data is real: templates are the
 * state values, recent-decision histories and timer entries that the evaluator wrote for
 * a sample of this run's customers (throughput and latency phases). Customers are written
 * with the evaluator's key layout (packages/redis-state/src/keys.ts) under a prefix of
 * their own, spread over the run's partitions, in steps up to each size. Per size: the
 * growth of INFO used_memory divided by customers (all Redis pays, its dictionaries
 * included), and MEMORY USAGE of a sample of keys as a breakdown.
 *
 * Two variants, because every event of a benchmark run is minutes old:
 *  - at rest (the headline): the templates' states as they are an hour after the
 *    customer's last event, i.e. without the event ids the engine keeps for de-duplication
 *    during the lateness horizon (1 h in the default rules). Most of a large customer base
 *    is in this state at any moment.
 *  - just active: the states as written, every id of the run still held — since state
 *    layout 3 in the customer's own sorted set of ids (`…:d:<customer>`), copied too.
 *
 * At each size of the at-rest variant, `labelstream rules diff` (the dry run of a rules
 * change) runs over all of them: its time and peak memory (which must stay flat).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const pkgs = require('./pkgs.cjs');
const { round, ROOT } = require('./system.cjs');
const execFileP = promisify(execFile);
const { deleteKeys } = require('./pipeline.cjs');

/** used_memory once Redis has freed what UNLINK handed to its background thread (large hashes). */
async function usedMemory(redis) {
  for (let i = 0; ; i++) {
    const info = await redis.info('memory');
    const pending = Number(/lazyfree_pending_objects:(\d+)/.exec(info)?.[1] ?? 0);
    if (pending === 0 || i >= 100) return Number(/used_memory:(\d+)/.exec(info)[1]);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Up to `max` real customers of the run: state value, history entries, due time. */
async function collectTemplates(redis, keyPrefix, partitions, max) {
  const out = [];
  const perPartition = Math.ceil(max / partitions);
  for (let p = 0; p < partitions; p++) {
    const keys = new pkgs.redisState.PartitionKeys(keyPrefix, p);
    let cursor = '0';
    const ids = [];
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.tag}:c:*`, 'COUNT', 5000);
      cursor = next;
      for (const k of found) ids.push(k.slice(`${keys.tag}:c:`.length));
    } while (cursor !== '0' && ids.length < perPartition);
    const chosen = ids.slice(0, perPartition);
    const pipe = redis.pipeline();
    for (const id of chosen) {
      pipe.get(keys.customer(id));
      pipe.hget(keys.history, id);
      pipe.zscore(keys.timers, id);
      pipe.zrange(keys.ids(id), 0, -1, 'WITHSCORES');
    }
    const res = await pipe.exec();
    for (let i = 0; i < chosen.length; i++) {
      const [, value] = res[4 * i];
      const [, history] = res[4 * i + 1];
      const [, due] = res[4 * i + 2];
      const [, ids] = res[4 * i + 3];
      if (value) out.push({ value, history: history ? history.split('\n') : [], due: due == null ? null : Number(due), ids: ids ?? [] });
    }
  }
  return out;
}

/** The stored value ("<version>|<state>") without the de-duplication ids (layout 3 holds none; an older layout is stripped). */
function atRest(value) {
  const { decodeState, encodeState, IDS_APART_VERSION } = pkgs.engine;
  const bar = value.indexOf('|');
  const text = value.slice(bar + 1);
  if (JSON.parse(text).v === IDS_APART_VERSION) return value;
  const state = decodeState(text);
  state.d = {};
  return `${value.slice(0, bar)}|${encodeState(state)}`;
}

async function sampleUsage(redis, keyPrefix, partitions, total, sample = 1000) {
  const n = Math.min(sample, total);
  const pipe = redis.pipeline();
  for (let i = 0; i < n; i++) {
    const c = Math.floor((i * total) / n);
    const keys = new pkgs.redisState.PartitionKeys(keyPrefix, c % partitions);
    pipe.memory('USAGE', keys.customer(customerId(c)), 'SAMPLES', '0');
    pipe.memory('USAGE', keys.ids(customerId(c)), 'SAMPLES', '0');
  }
  // Per-partition structures, shared by all customers: the timers and the history hashes.
  for (let p = 0; p < partitions; p++) {
    const keys = new pkgs.redisState.PartitionKeys(keyPrefix, p);
    pipe.memory('USAGE', keys.timers, 'SAMPLES', '0');
    pipe.memory('USAGE', keys.history, 'SAMPLES', '0');
  }
  const res = (await pipe.exec()).map(([, v]) => Number(v ?? 0));
  let state = 0;
  let ids = 0;
  for (let i = 0; i < n; i++) {
    state += res[2 * i];
    ids += res[2 * i + 1];
  }
  let zset = 0;
  let hash = 0;
  for (let p = 0; p < partitions; p++) {
    zset += res[2 * n + 2 * p];
    hash += res[2 * n + 2 * p + 1];
  }
  const out = { state_key: Math.round(state / n), ids_key: Math.round(ids / n), history_entry: Math.round(hash / total), timer_entry: Math.round(zset / total) };
  return { ...out, total: out.state_key + out.ids_key + out.history_entry + out.timer_entry };
}

const customerId = (n) => `m-${String(n).padStart(7, '0')}`;

/** Writes customers [from, to) from `templates` (pipelined, 2 000 per round trip). */
async function writeCustomers(redis, keyPrefix, partitions, templates, from, to) {
  for (let start = from; start < to; start += 2000) {
    const pipe = redis.pipeline();
    for (let n = start; n < Math.min(to, start + 2000); n++) {
      const t = templates[n % templates.length];
      const keys = new pkgs.redisState.PartitionKeys(keyPrefix, n % partitions);
      pipe.set(keys.customer(customerId(n)), t.value);
      if (t.history.length) pipe.hset(keys.history, customerId(n), t.history.join('\n'));
      if (t.due !== null) pipe.zadd(keys.timers, t.due, customerId(n));
      if (t.ids.length) {
        const args = [];
        for (let i = 0; i + 1 < t.ids.length; i += 2) args.push(t.ids[i + 1], t.ids[i]);
        pipe.zadd(keys.ids(customerId(n)), ...args);
      }
    }
    await pipe.exec();
  }
}

/**
 * `labelstream rules diff` (the dry run of a rules change, read-only) over every customer
 * under `keyPrefix`: a threshold change of the default rules (no new feature, so no input
 * history is read), run as the CLI runs but with V8's old space capped at DIFF_HEAP_MB, with
 * its peak resident memory (max-rss.cjs).
 */
const DIFF_HEAP_MB = 96;

async function diffRun(redisUrl, keyPrefix, customers, log) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-diff-'));
  const file = path.join(dir, 'rules.yaml');
  const base = fs.readFileSync(path.join(ROOT, 'rules/default.yaml'), 'utf8');
  if (!base.includes('enter: "spend_90d >= 50000"')) throw new Error('rules/default.yaml no longer has the threshold the diff measurement changes');
  const next = base.replace(/^version:.*$/m, 'version: "bench-diff"').replace('enter: "spend_90d >= 50000"', 'enter: "spend_90d >= 45000"');
  fs.writeFileSync(file, next);
  const t0 = Date.now();
  // V8's old space capped: a dry run whose memory grew with the customers would fail here at a large size.
  const { stdout, stderr } = await execFileP(process.execPath, [`--max-old-space-size=${DIFF_HEAP_MB}`, '--require', path.join(__dirname, 'max-rss.cjs'), path.join(ROOT, 'packages/cli/dist/main.js'), 'rules', 'diff', file, '--json', '--redis', redisUrl, '--prefix', keyPrefix, '--current', path.join(ROOT, 'rules/default.yaml')], { cwd: ROOT, maxBuffer: 64 << 20 });
  const seconds = (Date.now() - t0) / 1000;
  const report = JSON.parse(stdout);
  const kb = Number(/bench-max-rss-kb=(\d+)/.exec(stderr)?.[1]);
  fs.rmSync(dir, { recursive: true, force: true });
  const out = { customers: report.customers.customers, changed: report.customers.changed, seconds: round(seconds, 1), customers_per_s: Math.round(report.customers.customers / seconds), max_rss_mb: round(kb / 1024, 1), old_space_cap_mb: DIFF_HEAP_MB };
  if (out.customers !== customers) throw new Error(`rules diff scanned ${out.customers} customers, ${customers} were written`);
  log(`  rules diff over ${customers.toLocaleString('en')} customers: ${out.seconds} s (${out.customers_per_s.toLocaleString('en')} customers/s), ${out.changed.toLocaleString('en')} would change, peak RSS ${out.max_rss_mb} MB (old space capped at ${DIFF_HEAP_MB} MB)`);
  return out;
}

/** Writes up to each of `sizes` customers and measures after each step (`atSize(size)` too, when given). */
async function measureVariant(redis, keyPrefix, partitions, templates, sizes, log, label, atSize) {
  await deleteKeys(redis, `${keyPrefix}:*`);
  const base = await usedMemory(redis);
  const rows = [];
  let written = 0;
  try {
    for (const size of sizes) {
      await writeCustomers(redis, keyPrefix, partitions, templates, written, size);
      written = size;
      const used = await usedMemory(redis);
      const sampled = await sampleUsage(redis, keyPrefix, partitions, size);
      const row = { customers: size, used_memory_delta_bytes: used - base, bytes_per_customer: Math.round((used - base) / size), sampled };
      if (atSize) row.diff = await atSize(size);
      rows.push(row);
      log(`  ${label}, ${size.toLocaleString('en')} customers: ${row.bytes_per_customer} B/customer (INFO delta); sampled ${sampled.total} B = state ${sampled.state_key} + ids ${sampled.ids_key} + history ${sampled.history_entry} + timer ${sampled.timer_entry}`);
    }
  } finally {
    await deleteKeys(redis, `${keyPrefix}:*`);
  }
  return rows;
}

async function memory({ redis, redisUrl, opts, names, templatesFrom, log }) {
  const real = await collectTemplates(redis, templatesFrom.keyPrefix, opts.partitions, 20_000);
  if (!real.length) return { skipped: 'no customer state to copy: run the throughput or latency phase in the same run' };
  const rest = real.map((t) => ({ ...t, value: atRest(t.value), ids: [] }));
  const bytes = (list) => {
    const b = list.map((t) => Buffer.byteLength(t.value) - t.value.indexOf('|') - 1).sort((x, y) => x - y);
    return { p50: b[b.length >> 1], p90: b[Math.floor(b.length * 0.9)], max: b[b.length - 1], mean: Math.round(b.reduce((x, y) => x + y, 0) / b.length) };
  };
  const stateBytes = { just_active: bytes(real), at_rest: bytes(rest) };
  log(`  ${real.length} template customers; state bytes just active p50 ${stateBytes.just_active.p50} / mean ${stateBytes.just_active.mean} / max ${stateBytes.just_active.max}, at rest p50 ${stateBytes.at_rest.p50} / mean ${stateBytes.at_rest.mean}`);
  const sizes = [...opts.memorySizes].sort((a, b) => a - b);
  const started = Date.now();
  // The dry run's time and memory at each size: its memory must not grow with the customers.
  const restRows = await measureVariant(redis, names.keyPrefix, opts.partitions, rest, sizes, log, 'at rest', (size) => diffRun(redisUrl, names.keyPrefix, size, log));
  // Just-active customers only up to 100k: enough to show what the de-duplication ids cost.
  const activeRows = await measureVariant(redis, names.keyPrefix, opts.partitions, real, sizes.filter((s) => s <= 100_000), log, 'just active');
  const avgHistory = real.reduce((n, t) => n + t.history.length, 0) / real.length;
  return {
    method: "synthetic customers whose data (state, recent-decision history, timer entry) is copied from a sample of this run's pipeline-written customers",
    template_customers: real.length,
    template_state_bytes: stateBytes,
    template_history_entries_avg: round(avgHistory, 2),
    template_with_timer: round(real.filter((t) => t.due !== null).length / real.length, 3),
    seconds: round((Date.now() - started) / 1000, 1),
    at_rest: restRows,
    just_active: activeRows,
    redis_bytes_per_customer: Object.fromEntries(restRows.map((r) => [String(r.customers), r.bytes_per_customer])),
    redis_bytes_per_customer_just_active: Object.fromEntries(activeRows.map((r) => [String(r.customers), r.bytes_per_customer])),
    rules_diff: restRows.map((r) => r.diff),
  };
}

module.exports = { memory };
