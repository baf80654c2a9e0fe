'use strict';
/**
 * Backfill after a rules change (README "Changing rules"): how long a switch that
 * redefines a feature takes to fill it from the input's history, and what it costs in
 * memory, with one pass and with passes of bounded memory.
 *
 * Runs on what the throughput phase left: its customer-events topic (every preloaded event,
 * canonical) and its evaluator's states in Redis. The main pipeline is stopped first. Per
 * variant, one fresh evaluator process takes every partition, then a rules version that
 * redefines `spend_90d` (a `where` filter: a new storage key, so backfilled) is published
 * to the run's rules channel; the time from the publish until every partition has switched
 * is the backfill (plus one fenced switch per partition). Each variant publishes a new
 * definition, so each backfills again.
 *
 *  - one pass (the baseline): EVALUATOR_BACKFILL_MAX_CUSTOMERS above the customers, so each
 *    partition is folded in one read of its history;
 *  - bounded: a bound of a quarter of a partition's customers, so each partition takes about
 *    four passes (and four reads of its history), with a quarter of the folds in memory.
 *
 * Figures: seconds, history records read per second (all passes), passes, the most folds a
 * pass held, and the evaluator's peak resident memory (VmHWM) before and after, from /proc
 * (the process's whole high-water mark: Kafka fetch buffers and the sweep that follows each
 * switch included, so at these sizes it says little about the folds). What bounds the
 * folds' memory is the bound times the heap of one fold, measured here directly: the
 * engine's foldHistory over synthetic customers with this run's events per customer, all
 * inside the lateness horizon (every event id kept, the largest a fold gets for them), heap
 * after GC divided by customers.
 */
const fs = require('node:fs');
const path = require('node:path');
const pkgs = require('./pkgs.cjs');
const { startService, sleep } = require('./services.cjs');
const { round, ROOT } = require('./system.cjs');

/** Peak resident set of a process so far, in MB (Linux). */
function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : null;
}

/** The evaluator's 'features backfilled from history' lines (pino JSON), one per partition. */
function backfillLines(logFile) {
  const out = [];
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('features backfilled from history')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* a torn last line */
    }
  }
  return out;
}

/** A function that runs a full GC (the harness is not started with --expose-gc). */
function gcFunction() {
  require('node:v8').setFlagsFromString('--expose-gc');
  return require('node:vm').runInNewContext('gc');
}

/** Heap bytes per customer fold: `customers` folds of `perCustomer` purchases and clicks each, ids as long as UUIDs. */
function foldHeapBytes(rules, keys, customers, perCustomer) {
  const { foldHistory } = pkgs.engine;
  const gc = gcFunction();
  const heap = () => (gc(), gc(), process.memoryUsage().heapUsed);
  const t0 = Date.now() - 10 * 60_000;
  const folds = new Map();
  const before = heap();
  let i = 0;
  for (let c = 0; c < customers; c++) {
    const events = [];
    for (let k = 0; k < perCustomer; k++, i++) {
      const base = { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, customerId: `c${c}`, occurredAt: t0 + k * 1000 };
      events.push(
        k % 3 === 0
          ? { ...base, eventType: 'PURCHASE', attrs: { amountMinor: 5000, amountMinorBase: 1000 + (i % 20000), currency: 'EUR', itemCount: 2, quantity: 3, categories: ['apparel'], skus: ['a', 'b'], channel: k % 2 ? 'WEB' : 'APP' } }
          : { ...base, eventType: 'EMAIL_CLICK', attrs: { campaignId: 'c', emailId: 'e', linkId: 'l' } },
      );
    }
    folds.set(`c${c}`, foldHistory(undefined, events, rules, keys));
  }
  return Math.round((heap() - before) / folds.size);
}

async function backfill({ env, names, opts, redis, log, tag }) {
  const base = fs.readFileSync(path.join(ROOT, 'rules/default.yaml'), 'utf8');
  const spend = /^(\s*spend_90d:\s*\{ event: purchase, agg: sum, field: amountMinorBase, window: 90d) \}/m;
  if (!spend.test(base)) throw new Error('rules/default.yaml no longer defines spend_90d as the backfill phase expects');
  const perPartition = Math.ceil(opts.customers / opts.partitions);
  const variants = [
    { name: 'one pass', maxCustomers: opts.customers * 2 },
    { name: 'bounded', maxCustomers: Math.max(1, Math.ceil(perPartition / 4)) },
  ];
  // Two definitions, so that the second deploy backfills again (a new storage key each).
  const filters = [`"event.channel == 'WEB'"`, `"event.channel != 'WEB'"`];
  const channel = new pkgs.redisState.RulesChannel(redis, names.keyPrefix);
  const published = await channel.current();
  let seq = published?.seq ?? 0;
  const runs = [];
  for (const [i, v] of variants.entries()) {
    const version = `${names.prefix}-backfill-${i + 1}`;
    const text = base.replace(/^version:.*$/m, `version: "${version}"`).replace(spend, `$1, where: ${filters[i]} }`);
    const rules = pkgs.rules.loadRules(text, { source: version });
    const svc = await startService(
      'evaluator',
      {
        KAFKA_BROKERS: env.kafkaBrokers,
        SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
        LOG_LEVEL: 'info',
        TOPIC_PARTITIONS: String(opts.partitions),
        SHUTDOWN_TIMEOUT: '10s',
        ...(opts.serviceEnv ?? {}),
        ...names.topics,
        EVALUATOR_GROUP_ID: names.groups.evaluator,
        REDIS_URL: env.redisUrl,
        REDIS_KEY_PREFIX: names.keyPrefix,
        RULES_FILE: path.join(ROOT, 'rules/default.yaml'),
        EVALUATOR_RULES_POLL: '200ms',
        EVALUATOR_BACKFILL_MAX_CUSTOMERS: String(v.maxCustomers),
      },
      { tag: `${tag}-backfill-${i + 1}` },
    );
    try {
      // Every partition taken over (the previous owner is gone; its session may still hold them a while).
      for (let t = Date.now(); ; await sleep(200)) {
        const body = await (await globalThis.fetch(`http://127.0.0.1:${svc.port}/readyz`)).json().catch(() => ({}));
        if ((body.owned ?? []).length === opts.partitions) break;
        if (Date.now() - t > 120_000) throw new Error(`the backfill evaluator owns ${(body.owned ?? []).length} of ${opts.partitions} partitions after 120 s`);
      }
      const rssBefore = peakRssMb(svc.pid);
      const t0 = Date.now();
      await channel.publish(text, { version, hash: rules.hash, note: 'bench backfill phase' }, seq, t0);
      seq++;
      for (;;) {
        const states = await Promise.all(Array.from({ length: opts.partitions }, (_, p) => channel.partition(p)));
        if (states.every((s) => s.seq === seq)) break;
        if (!svc.alive()) throw new Error(`the backfill evaluator exited; see ${svc.logFile}`);
        if (Date.now() - t0 > 30 * 60_000) throw new Error('the backfill took over 30 minutes');
        await sleep(100);
      }
      const seconds = (Date.now() - t0) / 1000;
      const rssAfter = peakRssMb(svc.pid);
      const lines = backfillLines(svc.logFile);
      const read = lines.reduce((a, l) => a + (l.events ?? 0), 0);
      const run = {
        variant: v.name,
        max_customers: v.maxCustomers,
        seconds: round(seconds, 1),
        history_records_read: read,
        records_per_s: Math.round(read / seconds),
        customers_written: lines.reduce((a, l) => a + (l.customers ?? 0), 0),
        passes: lines.reduce((a, l) => a + (l.passes ?? 0), 0),
        partitions_logged: lines.length,
        peak_folds: Math.max(0, ...lines.map((l) => l.peakCustomers ?? 0)),
        peak_rss_mb_before: rssBefore,
        peak_rss_mb_after: rssAfter,
      };
      runs.push(run);
      log(`  ${v.name} (max ${v.maxCustomers.toLocaleString('en')} customers/pass): ${run.seconds} s, ${run.passes} passes over ${opts.partitions} partitions, ${read.toLocaleString('en')} records read (${run.records_per_s.toLocaleString('en')}/s), peak RSS ${rssBefore} -> ${rssAfter} MB`);
    } finally {
      await svc.stop(15_000);
    }
  }
  const last = pkgs.rules.loadRules(base.replace(spend, `$1, where: ${filters[0]} }`), { source: 'fold heap' });
  const plan = pkgs.engine.backfillPlan(pkgs.rules.loadRules(base, { source: 'rules/default.yaml' }), last);
  const perCustomer = Math.max(1, Math.round(opts.events / opts.customers));
  const foldBytes = foldHeapBytes(last, plan.keys, 20_000, perCustomer);
  log(`  heap per customer fold: ${foldBytes} B (${perCustomer} events each, all ids kept): the default bound of 100,000 customers/pass holds about ${Math.round((foldBytes * 100_000) / 2 ** 20)} MiB of folds`);
  return { events: opts.events, customers: opts.customers, partitions: opts.partitions, feature: 'spend_90d (redefined with a where filter)', fold_heap_bytes: foldBytes, fold_events_per_customer: perCustomer, runs };
}

module.exports = { backfill };
