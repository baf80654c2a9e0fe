#!/usr/bin/env node
// CEL library benchmark for Labelstream rules.
//
// Compiles a typical label expression and a typical `where` filter ONCE per library (with
// declared variable types, as the rules package does) and evaluates each N times
// (default 1e6) against a ring of pre-built, varying activations, so the figures are
// evaluation cost only. Both libraries must agree on every activation.
// Then the rules package's own path, as the engine calls it (needs `pnpm build`): the same
// expression as a label condition and filters as `where`, compiled by loadRules with
// closures (the default) and with `compileExpressions: false` (@bufbuild/cel on every
// evaluation), alternating in the same run so the machine's load affects both alike.
// Run: node packages/rules/bench/cel-bench.js [iterations]
'use strict';

const N = Number(require('node:util').parseArgs({ allowPositionals: true }).positionals[0] ?? 1e6);
const RING = 1024;
const EXPR =
  'spend_90d >= 50000 && orders_lifetime >= 2 || (last_csat != null && last_csat >= 4 && clicks_14d > 3)';
const FILTER = "event.categories.exists(c, c == 'outdoor') && event.amountMinorBase > 1000";

// Varying activations: the engine hands counts/sums as CEL int (bigint) and
// last/min/max as dyn (bigint or null).
function activations() {
  const out = [];
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < RING; i++) {
    out.push({
      spend_90d: BigInt(Math.floor(rnd() * 100000)),
      orders_lifetime: BigInt(Math.floor(rnd() * 5)),
      clicks_14d: BigInt(Math.floor(rnd() * 8)),
      last_csat: rnd() < 0.3 ? null : BigInt(1 + Math.floor(rnd() * 5)),
    });
  }
  return out;
}

// Read a dependency's version from its package.json (not every package exports it).
function versionOf(pkg) {
  const fs = require('fs');
  const path = require('path');
  const dir = path.join(__dirname, '..', 'node_modules', ...pkg.split('/'));
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

// Filter activations: cel-js takes plain objects, @bufbuild/cel takes a Map for a map value.
function events() {
  const cats = [[], ['outdoor'], ['shoes', 'outdoor'], ['apparel'], ['apparel', 'shoes', 'toys']];
  const out = [];
  for (let i = 0; i < RING; i++) {
    const e = { categories: cats[i % cats.length], amountMinorBase: BigInt((i * 7919) % 5000) };
    out.push({ obj: { event: e }, map: { event: new Map(Object.entries(e)) } });
  }
  return out;
}

function time(name, fn, acts) {
  // warm-up, then measure
  for (let i = 0; i < 50000; i++) fn(acts[i % RING]);
  let trues = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (fn(acts[i % RING]) === true) trues++;
  const ns = Number(process.hrtime.bigint() - t0);
  const perSec = Math.round(N / (ns / 1e9));
  return { name, evaluationsPerSecond: perSec, nsPerEvaluation: +(ns / N).toFixed(1), trues };
}

async function main() {
  const acts = activations();
  const results = [];

  // @marcbachmann/cel-js (ESM only -> dynamic import)
  const cj = await import('@marcbachmann/cel-js');
    const env = new cj.Environment()
    .registerVariable('spend_90d', 'int')
    .registerVariable('orders_lifetime', 'int')
    .registerVariable('clicks_14d', 'int')
    .registerVariable('last_csat', 'dyn');
  const chk = env.check(EXPR);
  if (!chk.valid) throw chk.error;
  const cjFn = env.parse(EXPR);
  results.push(time(`@marcbachmann/cel-js ${versionOf('@marcbachmann/cel-js')}`, (a) => cjFn(a), acts));

  // @bufbuild/cel (dual CJS/ESM)
  const bc = require('@bufbuild/cel');
    const benv = bc.celEnv({
    variables: {
      spend_90d: bc.CelScalar.INT,
      orders_lifetime: bc.CelScalar.INT,
      clicks_14d: bc.CelScalar.INT,
      last_csat: bc.CelScalar.DYN,
    },
  });
  // 0.6.1 has a checker internally but does not export it: plan the parsed expression.
  const bcFn = bc.plan(benv, bc.parse(EXPR));
  results.push(time(`@bufbuild/cel ${versionOf('@bufbuild/cel')}`, (a) => bcFn(a), acts));

  // Filters over the event view.
  const evs = events();
  const cjFilter = new cj.Environment().registerVariable('event', 'map').parse(FILTER);
  const bcFilter = bc.plan(bc.celEnv({ variables: { event: bc.mapType(bc.CelScalar.STRING, bc.CelScalar.DYN) } }), bc.parse(FILTER));
  const filterResults = [
    time(`@marcbachmann/cel-js ${versionOf('@marcbachmann/cel-js')}`, (a) => cjFilter(a.obj), evs),
    time(`@bufbuild/cel ${versionOf('@bufbuild/cel')}`, (a) => bcFilter(a.map), evs),
  ];

  // Cross-check: both must agree on every activation.
  for (const a of acts) {
    const x = cjFn(a);
    const y = bcFn(a);
    if (x !== y) throw new Error(`libraries disagree on ${JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}: ${x} vs ${y}`);
  }
  for (const a of evs) if (cjFilter(a.obj) !== bcFilter(a.map)) throw new Error('libraries disagree on a filter');

  console.log(`iterations: ${N}, node ${process.version}`);
  console.log(`label expression: ${EXPR}`);
  console.table(results);
  console.log(`filter: ${FILTER}`);
  console.table(filterResults);
}

// ---- The rules package: closures vs @bufbuild/cel, through CompiledCondition/CompiledFilter.
const RULES_FILTERS = ["'outdoor' in event.categories && event.amountMinorBase > 1000", FILTER];

function rulesText() {
  return [
    'version: bench',
    'allowedLateness: 1h',
    'features:',
    '  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }',
    '  orders_lifetime: { event: purchase, agg: count }',
    '  clicks_14d: { event: email_click, agg: count, window: 14d }',
    '  last_csat: { event: support_ticket, agg: last, field: satisfactionScore }',
    ...RULES_FILTERS.map((f, i) => `  filtered_${i}: { event: purchase, agg: count, where: ${JSON.stringify(f)} }`),
    'labels:',
    `  l: { category: custom, description: d, when: ${JSON.stringify(EXPR)} }`,
    '',
  ].join('\n');
}

function rulesBench() {
  const { loadRules } = require('../dist');
  const text = rulesText();
  const variants = [
    ['@bufbuild/cel (compileExpressions: false)', loadRules(text, { compileExpressions: false })],
    ['closures (default)', loadRules(text)],
  ];
  // Feature values as the engine hands them: plain numbers, null for an empty `last`.
  const values = activations().map((a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v === null ? null : Number(v)])));
  const views = events().map((e) => ({ categories: e.obj.event.categories, amountMinorBase: Number(e.obj.event.amountMinorBase) }));
  const cases = [
    [`condition: ${EXPR}`, (rules) => (v) => rules.labels[0].conditions.enter.evaluate(v).holds, values],
    ...RULES_FILTERS.map((f, i) => [`filter: ${f}`, (rules) => (v) => rules.features[4 + i].where.evaluate(v).matches, views]),
  ];
  for (const [title, make, inputs] of cases) {
    const rows = new Map();
    for (let round = 0; round < 3; round++) {
      for (const [name, rules] of variants) {
        const r = time(name, make(rules), inputs);
        const prev = rows.get(name);
        // Keep the best round: the least disturbed by other load on the machine.
        if (!prev || r.nsPerEvaluation < prev.nsPerEvaluation) rows.set(name, r);
      }
    }
    const [lib, fast] = [...rows.values()];
    if (lib.trues !== fast.trues) throw new Error(`closures and library disagree on ${title}`);
    console.log(`rules package, ${title} (best of 3 alternating rounds; speed-up ${(lib.nsPerEvaluation / fast.nsPerEvaluation).toFixed(1)}x)`);
    console.table([...rows.values()]);
  }
}

main().then(rulesBench).catch((e) => {
  console.error(e);
  process.exit(1);
});
