'use strict';
/** The headline figures against the targets, the printed table, and the result files. */
const fs = require('node:fs');
const path = require('node:path');
const { renderChart } = require('./chart.cjs');
const { ROOT } = require('./system.cjs');

const RESULTS = path.join(ROOT, 'bench', 'results');

/** Targets of issue 7 (figures to work toward, never test assertions). */
function targets(r) {
  const t = {};
  const tp = r.throughput_events_per_s;
  if (tp != null) t.throughput = { target: '≥ 25,000 events/s', value: tp, met: tp >= 25_000 };
  if (tp != null && r.baseline_consume_events_per_s) {
    const share = tp / r.baseline_consume_events_per_s;
    t.throughput_vs_baseline = { target: '≥ 50% of the do-nothing consumer', value: Math.round(share * 1000) / 10, met: share >= 0.5 };
  }
  if (r.latency_ms?.p99 != null) t.latency_p99 = { target: `≤ 25 ms at ${r.offered_rate} events/s`, value: r.latency_ms.p99, met: r.latency_ms.p99 <= 25 };
  const mem = r.redis_bytes_per_customer;
  if (mem && Object.keys(mem).length) {
    const values = Object.values(mem);
    const max = Math.max(...values);
    const min = Math.min(...values);
    t.redis_bytes_per_customer = { target: '≤ 1 KB, flat from 10k to 1M customers', value: max, met: max <= 1024 && max <= min * 1.15 };
  }
  if (r.timer_lateness_ms?.p99 != null) t.timer_lateness_p99 = { target: '≤ 1 s', value: r.timer_lateness_ms.p99, met: r.timer_lateness_ms.p99 <= 1000 };
  return t;
}

const num = (v, unit = '') => (v == null ? '—' : `${typeof v === 'number' ? v.toLocaleString('en') : v}${unit}`);
const mark = (met) => (met === undefined ? '' : met ? 'met' : 'MISSED');

/** The table printed at the end of a run. */
function table(r) {
  const rows = [];
  const t = r.targets;
  const p = r.phases;
  rows.push(['figure', 'value', 'target', '']);
  if (p.baseline) rows.push(['do-nothing consumer (raw topics)', num(p.baseline.consume_events_per_s, ' ev/s'), 'ceiling', '']);
  if (p.redis?.redis_benchmark?.set_p16) rows.push(['redis-benchmark SET / GET, -P 16', `${num(p.redis.redis_benchmark.set_p16)} / ${num(p.redis.redis_benchmark.get_p16)} req/s`, 'ceiling', '']);
  if (p.redis?.redis_benchmark?.set_p1) rows.push(['redis-benchmark SET / GET, -P 1', `${num(p.redis.redis_benchmark.set_p1)} / ${num(p.redis.redis_benchmark.get_p1)} req/s`, 'ceiling', '']);
  if (p.redis?.commit_script) rows.push(['evaluator COMMIT script alone', num(p.redis.commit_script.customers_per_s, ' customers/s'), 'ceiling', '']);
  if (p.throughput) {
    const s = p.throughput.stages;
    rows.push(['end-to-end throughput', num(r.throughput_events_per_s, ' ev/s'), t.throughput?.target ?? '', mark(t.throughput?.met)]);
    if (t.throughput_vs_baseline) rows.push(['  share of the do-nothing consumer', `${t.throughput_vs_baseline.value} %`, '≥ 50 %', mark(t.throughput_vs_baseline.met)]);
    rows.push(['  ingest', num(s.ingest.events_per_s, ' ev/s'), '', '']);
    rows.push(['  evaluator', num(s.evaluator.events_per_s, ' ev/s'), '', '']);
    rows.push(['  publisher', num(s.publisher.events_per_s, ' decisions/s'), '', '']);
    const cpu = p.throughput.cpu?.processes ?? {};
    rows.push(['  CPU (cores)', Object.entries(cpu).map(([k, v]) => `${k} ${v.cores}`).join(', '), '', '']);
    rows.push(['  CPU used by others meanwhile', num(p.throughput.cpu?.other_cores, ' cores'), '', '']);
    const us = p.throughput.cpu_us_per_event ?? {};
    rows.push([`  CPU µs per event${p.throughput.evaluators > 1 ? ` (${p.throughput.evaluators} evaluators)` : ''}`, Object.entries(us).map(([k, v]) => `${k} ${v}`).join(', '), '', '']);
  }
  if (r.latency_ms) {
    const l = r.latency_ms;
    rows.push([`latency at ${num(r.offered_rate)} ev/s p50/p95/p99/max`, `${num(l.p50)} / ${num(l.p95)} / ${num(l.p99)} / ${num(l.max)} ms${p.latency.complete === false ? ' (lower bound: not drained)' : ''}`, t.latency_p99?.target ?? '', mark(t.latency_p99?.met)]);
    const cpu = p.latency.cpu?.processes ?? {};
    rows.push(['  CPU (cores)', Object.entries(cpu).map(([k, v]) => `${k} ${v.cores}`).join(', '), '', '']);
  }
  for (const r of p.scaling?.runs ?? []) {
    rows.push([`scaling: ${r.evaluators} evaluator process${r.evaluators > 1 ? 'es' : ''}`, `${num(r.end_to_end_events_per_s)} ev/s end to end, evaluator ${num(r.evaluator_events_per_s)}/s, machine ${r.machine_busy_cores} cores busy`, '', '']);
  }
  for (const r of p.compression?.runs ?? []) {
    rows.push([`compression ${r.codec}`, `services ${r.services_cpu_us_per_event} µs CPU/event, kafka ${r.cpu_us_per_event.kafka ?? '?'} µs, broker ${r.broker_bytes_per_event_total ?? '?'} B/event on our topics, ${num(r.end_to_end_events_per_s)} ev/s`, '', '']);
  }
  for (const d of p.memory?.rules_diff ?? []) {
    if (d) rows.push([`rules diff (dry run), ${num(d.customers)} customers`, `${d.seconds} s, ${num(d.customers_per_s)} customers/s, peak RSS ${d.max_rss_mb} MB, heap capped at ${d.old_space_cap_mb} MB`, 'memory flat', '']);
  }
  for (const b of p.backfill?.runs ?? []) {
    rows.push([`backfill, ${b.variant} (≤ ${num(b.max_customers)} customers/pass)`, `${b.seconds} s, ${b.passes} passes, at most ${num(b.peak_folds)} folds held, ${num(b.records_per_s)} history records/s, peak RSS ${b.peak_rss_mb_before} -> ${b.peak_rss_mb_after} MB`, '', '']);
  }
  if (p.backfill?.fold_heap_bytes) rows.push([`  heap per customer fold (${p.backfill.fold_events_per_customer} events)`, num(p.backfill.fold_heap_bytes, ' B'), '', '']);
  for (const c of p.curve?.points ?? []) {
    rows.push([`latency curve at ${num(c.offered_rate)} ev/s p50 / p99`, `${num(c.p50)} / ${num(c.p99)} ms${c.saturated ? ' (saturated)' : ''}`, '', '']);
  }
  if (r.redis_bytes_per_customer) {
    for (const [n, b] of Object.entries(r.redis_bytes_per_customer)) rows.push([`Redis bytes/customer at rest, ${Number(n).toLocaleString('en')}`, num(b, ' B'), '≤ 1,024 B, flat', '']);
    if (t.redis_bytes_per_customer) rows[rows.length - 1][3] = mark(t.redis_bytes_per_customer.met);
    for (const [n, b] of Object.entries(p.memory?.redis_bytes_per_customer_just_active ?? {})) rows.push([`  just active (ids of the last hour), ${Number(n).toLocaleString('en')}`, num(b, ' B'), '', '']);
  }
  if (r.timer_lateness_ms) rows.push(['timer lateness p50 / p99', `${num(r.timer_lateness_ms.p50)} / ${num(r.timer_lateness_ms.p99)} ms`, 'p99 ≤ 1,000 ms', mark(t.timer_lateness_p99?.met)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** Writes latest.json, a copy in history/, and latest.svg. Returns their paths. */
function writeResults(r) {
  fs.mkdirSync(path.join(RESULTS, 'history'), { recursive: true });
  const json = JSON.stringify(r, null, 2) + '\n';
  const latest = path.join(RESULTS, 'latest.json');
  const history = path.join(RESULTS, 'history', `${r.started_at.replace(/[:.]/g, '-')}-${r.run_id}.json`);
  const chart = path.join(RESULTS, 'latest.svg');
  fs.writeFileSync(latest, json);
  fs.writeFileSync(history, json);
  fs.writeFileSync(chart, renderChart(r));
  return { latest, history, chart };
}

module.exports = { targets, table, writeResults };
