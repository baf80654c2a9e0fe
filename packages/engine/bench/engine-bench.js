#!/usr/bin/env node
// Engine CPU cost, as the evaluator pays it. Needs the compiled package first:
// `npx tsc -b packages/engine` (or `pnpm build`).
// Run: node packages/engine/bench/engine-bench.js [events] [--only=pool|ids|due|small|cel]
//
// pool: decodeState → applyEvents (one event) → encodeState per event with the default
//       rules, for a pool of customers (~100 events each over a year: a few ids each).
// ids:  decode and encode of states holding 100, 1 000 and 10 000 dedupe ids, and one
//       engine step on them.
// due:  what the evaluator's replay paid before each customer's batch to learn the stored
//       state's next due time (evaluateAt at the state's clock), against the step itself;
//       the evaluator now reads that time from the customer's timer instead.
// small: customers holding n = 1 … 10 000 ids (steady: one event every hour / n, so each
//       step adds one id and about one leaves the 1 h horizon); each step decodeState →
//       applyEvents (one new event) → encodeState, with the engine's ids.ts as compiled
//       (SMALL = its value) against copies of the package whose ids.js has another SMALL
//       (64: the strategy before; more with --small=8,16), alternating, in the same run;
//       --n=5,10 picks the sizes.
// cel:  the pool's step (decodeState → applyEvents → encodeState, default rules) and the
//       due-time evaluation (evaluateAt) with the rules' conditions and filters compiled
//       into closures (the default) against the same rules loaded with
//       compileExpressions: false (@bufbuild/cel on every evaluation), alternating per
//       event in the same run; both must produce the same states.
// pool and ids compare state layout 1 (ids as an object keyed by id; the codec below is a copy of
// the version 1 engine's) with layout 2 (ids as a flat array; the package's codec), in the
// same run, alternating, so the machine's load affects both alike.
'use strict';
const path = require('path');
const { readRulesFile } = require('@labelstream/rules');
const { applyEvents, decodeState, encodeState, evaluateAt } = require('../dist');
// Internals the copied version 1 codec used (unchanged since).
const { idsOf, setOwn } = require('../dist/ids');

const { values: flags, positionals } = require('node:util').parseArgs({
  allowPositionals: true,
  options: { only: { type: 'string', default: '' }, small: { type: 'string', default: '' }, n: { type: 'string' } },
});
const N = Number(positionals[0] ?? 200_000);
const only = flags.only;
const CUSTOMERS = 2_000;
const DAY = 86_400_000;
const MIN = 60_000;
const RULES_PATH = path.join(__dirname, '../../../rules/default.yaml');
const rules = readRulesFile(RULES_PATH);

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const t0 = Date.UTC(2026, 0, 1);
function event(i, customer, t) {
  const r = rnd();
  const base = { eventId: `evt-${i}-${customer}`, customerId: `c${customer}`, occurredAt: t };
  if (r < 0.3) {
    return { ...base, eventType: 'PURCHASE', attrs: { amountMinor: 5000, amountMinorBase: 1000 + Math.floor(rnd() * 20000), currency: 'EUR', itemCount: 2, quantity: 3, categories: rnd() < 0.3 ? ['outdoor'] : ['apparel'], skus: ['a', 'b'], channel: 'WEB' } };
  }
  if (r < 0.9) return { ...base, eventType: 'EMAIL_CLICK', attrs: { campaignId: 'c', emailId: 'e', linkId: 'l' } };
  return { ...base, eventType: 'SUPPORT_TICKET', attrs: { ticketId: 't', status: 'RESOLVED', priority: 'LOW', satisfactionScore: rnd() < 0.5 ? null : 1 + Math.floor(rnd() * 5) } };
}
const { randomUUID: uuid } = require('crypto');

// ---- Baseline: the version 1 codec (packages/engine/src/state.ts before layout 2) ----
const v1 = (() => {
  function encodeState(s) {
    const c = s.c;
    const out = { v: 1, c };
    const labels = sortedEntries(s.l);
    if (labels.length > 0) out.l = Object.fromEntries(labels.map(([k, since]) => [k, c - since]));
    const times = new Map();
    idsOf(s).forEach((id, t) => times.set(id, t));
    if (times.size > 0) {
      const d = {};
      for (const k of [...times.keys()].sort()) setOwn(d, k, c - times.get(k));
      out.d = d;
    }
    const feats = sortedEntries(s.f);
    if (feats.length > 0) out.f = Object.fromEntries(feats.map(([k, data]) => [k, encodeFeature(data, c)]));
    return JSON.stringify(out);
  }
  function encodeFeature(data, c) {
    switch (data.k) {
      case 'n':
        return data.v;
      case 'L':
        return ['L', data.v[0], c - data.v[1]];
      case 'D':
        return ['D', ...[...data.v].sort(byValue).flatMap(([v, t]) => [v, c - t])];
      case 'w': {
        const flat = ['w'];
        let prev = 0;
        data.b.forEach(([i, v], n) => {
          flat.push(n === 0 ? i : i - prev, v);
          prev = i;
        });
        return flat;
      }
      case 'l':
        return ['l', data.i, data.v[0], c - data.v[1]];
      case 'x': {
        const flat = ['x'];
        let prev = 0;
        [...data.v].sort((a, b) => a[1] - b[1] || byValue(a, b)).forEach(([v, i], n) => {
          flat.push(v, n === 0 ? i : i - prev);
          prev = i;
        });
        return flat;
      }
    }
  }
  function decodeState(text) {
    const o = JSON.parse(text);
    if (o === null || typeof o !== 'object') throw new Error('stored state is not an object');
    if (o.v !== 1) throw new Error(`stored state has version ${String(o.v)}; this engine reads version 1`);
    const c = o.c;
    if (typeof c !== 'number' || !Number.isFinite(c)) throw new Error('stored state has no clock');
    const s = { v: 1, c: 0, l: {}, d: {}, f: {} };
    s.c = c;
    for (const [k, age] of Object.entries(o.l ?? {})) s.l[k] = c - num(age);
    for (const [k, age] of Object.entries(o.d ?? {})) setOwn(s.d, k, c - num(age));
    for (const [k, enc] of Object.entries(o.f ?? {})) s.f[k] = decodeFeature(enc, c);
    return s;
  }
  function decodeFeature(enc, c) {
    if (typeof enc === 'number') return { k: 'n', v: enc };
    if (!Array.isArray(enc) || enc.length === 0) throw new Error('feature data is neither a number nor a tagged array');
    const [tag, ...rest] = enc;
    switch (tag) {
      case 'L':
        exactly(rest, 2);
        return { k: 'L', v: [scalar(rest[0]), c - num(rest[1])] };
      case 'D':
        return { k: 'D', v: chunks(rest, 2).map(([v, age]) => [scalar(v), c - num(age)]).sort(byValue) };
      case 'w': {
        let i = 0;
        return { k: 'w', b: chunks(rest, 2).map(([di, v], n) => [(i = n === 0 ? num(di) : i + num(di)), num(v)]) };
      }
      case 'l':
        exactly(rest, 3);
        return { k: 'l', i: num(rest[0]), v: [scalar(rest[1]), c - num(rest[2])] };
      case 'x': {
        let i = 0;
        const v = chunks(rest, 2).map(([x, di], n) => [scalar(x), (i = n === 0 ? num(di) : i + num(di))]);
        return { k: 'x', v: v.sort(byValue) };
      }
      default:
        throw new Error(`unknown feature layout ${JSON.stringify(tag)}`);
    }
  }
  function chunks(a, n) {
    if (a.length % n !== 0) throw new Error(`feature data length ${a.length} is not a multiple of ${n}`);
    const out = [];
    for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
    return out;
  }
  function exactly(a, n) {
    if (a.length !== n) throw new Error(`feature data has ${a.length} values, expected ${n}`);
  }
  function num(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
    return v;
  }
  function scalar(v) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    throw new Error(`expected a scalar, got ${JSON.stringify(v)}`);
  }
  function sortedEntries(o) {
    return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  function compareScalars(a, b) {
    const ta = typeof a;
    const tb = typeof b;
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function byValue(a, b) {
    return compareScalars(a[0], b[0]);
  }
  return { encodeState, decodeState };
})();
const v2 = { encodeState, decodeState };

console.log(`node ${process.version}, ${require('os').cpus().length} cpus, load ${require('os').loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// ---- pool: many ordinary customers ----
if (only === '' || only === 'pool') {
  const stores = [new Map(), new Map()];
  const ns = [0, 0];
  const codecs = [v1, v2];
  // one year of history spread over N events
  const times = Array.from({ length: N }, (_, i) => t0 + Math.floor((i / N) * 365 * DAY));
  for (let i = 0; i < N; i++) {
    const c = Math.floor(rnd() * CUSTOMERS);
    const e = event(i, c, times[i]);
    // alternate which layout goes first
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const { encodeState: enc, decodeState: dec } = codecs[k];
      const t = process.hrtime.bigint();
      const prev = stores[k].get(c);
      const step = applyEvents(prev ? dec(prev) : null, [e], rules);
      stores[k].set(c, enc(step.state));
      ns[k] += Number(process.hrtime.bigint() - t);
    }
  }
  console.log(`\npool: ${N} events over ${CUSTOMERS} customers (~${Math.round(N / CUSTOMERS)} events each over a year)`);
  ['layout 1 (old codec)', 'layout 2'].forEach((name, k) => {
    const sizes = [...stores[k].values()].map((s) => Buffer.byteLength(s)).sort((a, b) => a - b);
    const pct = (p) => sizes[Math.min(sizes.length - 1, Math.floor((p / 100) * sizes.length))];
    console.log(
      `  ${name.padEnd(21)} decode+apply+encode: ${Math.round(N / (ns[k] / 1e9))} events/s, ${(ns[k] / N / 1000).toFixed(1)} µs/event;` +
        ` state bytes p50 ${pct(50)}, p90 ${pct(90)}, p99 ${pct(99)}, max ${sizes[sizes.length - 1]}`,
    );
  });
}

// ---- cel: closures against @bufbuild/cel for conditions and filters ----
if (only === '' || only === 'cel') {
  const { loadRules } = require('@labelstream/rules');
  const text = require('fs').readFileSync(RULES_PATH, 'utf8');
  const variants = [
    ['@bufbuild/cel (compileExpressions: false)', loadRules(text, { source: RULES_PATH, compileExpressions: false })],
    ['closures (default)', loadRules(text, { source: RULES_PATH })],
  ];
  const stores = variants.map(() => new Map());
  const stepNs = variants.map(() => 0);
  const dueNs = variants.map(() => 0);
  const times = Array.from({ length: N }, (_, i) => t0 + Math.floor((i / N) * 365 * DAY));
  for (let i = 0; i < N; i++) {
    const c = Math.floor(rnd() * CUSTOMERS);
    const e = event(i, c, times[i]);
    const texts = [];
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const r = variants[k][1];
      const a = process.hrtime.bigint();
      const prev = stores[k].get(c);
      const s = prev ? decodeState(prev) : null;
      const out = encodeState(applyEvents(s, [e], r).state);
      const b = process.hrtime.bigint();
      stores[k].set(c, out);
      const next = decodeState(out);
      const d = process.hrtime.bigint();
      evaluateAt(next, next.c + MIN, r);
      const f = process.hrtime.bigint();
      stepNs[k] += Number(b - a);
      dueNs[k] += Number(f - d);
      texts[k] = out;
    }
    if (texts[0] !== texts[1]) throw new Error(`cel: the variants' states differ after event ${i}`);
  }
  console.log(`\ncel: ${N} events over ${CUSTOMERS} customers, default rules; same states from both variants`);
  variants.forEach(([name], k) => {
    console.log(
      `  ${name.padEnd(42)} step (decode+apply+encode): ${(stepNs[k] / N / 1000).toFixed(2)} µs/event;` +
        ` evaluateAt (due time): ${(dueNs[k] / N / 1000).toFixed(2)} µs/call`,
    );
  });
  console.log(`  step: ${(stepNs[0] / stepNs[1]).toFixed(2)}x, evaluateAt: ${(dueNs[0] / dueNs[1]).toFixed(2)}x faster with closures`);
}

// ---- ids: one customer with many dedupe ids ----
if (only === '' || only === 'ids') {
  /** Median over rounds of the mean µs per call; the two functions alternate. */
  function compare(fns, reps, rounds = 9) {
    const samples = fns.map(() => []);
    for (let r = 0; r < rounds + 1; r++) {
      const order = r % 2 === 0 ? fns.map((_, k) => k) : fns.map((_, k) => fns.length - 1 - k);
      for (const k of order) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < reps; i++) fns[k]();
        if (r > 0) samples[k].push(Number(process.hrtime.bigint() - t) / reps / 1000); // round 0 warms up
      }
    }
    return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
  }
  const us = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(7);
  const per = (x, n) => `${((x * 1000) / n).toFixed(0)} ns/id`.padStart(11);

  console.log('\nids: one customer holding n dedupe ids (UUIDs, the last 50 minutes, 5 % out of order); median µs');
  console.log('                       layout 1 (old codec)       layout 2                     speed-up');
  for (const n of [100, 1_000, 10_000]) {
    const now = t0 + 400 * DAY;
    const events = Array.from({ length: n }, (_, i) => {
      const t = now - 50 * MIN + Math.floor((i / n) * 50 * MIN) - (rnd() < 0.05 ? Math.floor(rnd() * 5 * MIN) : 0);
      return { ...event(i, 1, Math.max(now - 55 * MIN, t)), eventId: uuid() };
    });
    const base = applyEvents(null, events, rules).state;
    if (Object.keys(base.d).length !== n) throw new Error(`expected ${n} ids`);
    const text1 = v1.encodeState(base);
    const text2 = v2.encodeState(base);
    // Sanity: both layouts hold the same state.
    if (v2.encodeState(v1.decodeState(text1)) !== text2 || v2.encodeState(v2.decodeState(text1)) !== text2) throw new Error('layouts disagree');
    const next = { ...event(n, 1, now), eventId: uuid() };
    // What the evaluator encodes: a state the engine made (ids in a shared log).
    const stepped = applyEvents(v2.decodeState(text2), [next], rules).state;
    const reps = Math.max(5, Math.round(100_000 / n));
    const [dec1, dec2, dec2of1] = compare([() => v1.decodeState(text1), () => v2.decodeState(text2), () => v2.decodeState(text1)], reps);
    const [enc1, enc2] = compare([() => v1.encodeState(stepped), () => v2.encodeState(stepped)], reps);
    const [step1, step2] = compare(
      [() => v1.encodeState(applyEvents(v1.decodeState(text1), [next], rules).state), () => v2.encodeState(applyEvents(v2.decodeState(text2), [next], rules).state)],
      Math.max(3, Math.round(reps / 2)),
    );
    const row = (what, a, b) => console.log(`  n=${String(n).padEnd(6)} ${what.padEnd(7)} ${us(a)} µs ${per(a, n)}     ${us(b)} µs ${per(b, n)}     ${(a / b).toFixed(1)}x`);
    row('decode', dec1, dec2);
    row('encode', enc1, enc2);
    row('step', step1, step2);
    console.log(`  n=${String(n).padEnd(6)} bytes ${String(text1.length).padStart(9)}                ${String(text2.length).padStart(9)}        (layout 1 read by the new decoder: ${us(dec2of1).trim()} µs)`);
  }
  console.log('  step = decode + applyEvents (one new event, default rules) + encode');
}

// ---- small: the small-set strategy (SMALL in ids.ts) on the evaluator's step ----
if (only === 'small') {
  const fs = require('fs');
  const Module = require('module');
  const dist = path.join(__dirname, '../dist');
  const idsSource = fs.readFileSync(path.join(dist, 'ids.js'), 'utf8');
  const current = Number(/const SMALL = (\d+);/.exec(idsSource)?.[1]);
  /** A separate copy of the compiled package (own modules, own JIT feedback) whose ids.js has SMALL = k. */
  function engineWithSmall(k) {
    const src = idsSource.replace(/const SMALL = \d+;/, `const SMALL = ${k};`);
    if (!src.includes(`const SMALL = ${k};`)) throw new Error('no SMALL in dist/ids.js');
    const loaded = new Map();
    const load = (name) => {
      if (loaded.has(name)) return loaded.get(name).exports;
      const file = path.join(dist, `${name}.js`);
      const m = new Module(file, module);
      m.filename = file;
      m.paths = Module._nodeModulePaths(dist);
      loaded.set(name, m);
      const code = name === 'ids' ? src : fs.readFileSync(file, 'utf8');
      const req = (spec) => (spec.startsWith('./') ? load(spec.slice(2)) : m.require(spec));
      new Function('exports', 'require', 'module', '__filename', '__dirname', code)(m.exports, req, m, file, dist);
      return m.exports;
    };
    return load('index');
  }
  const smalls = [...new Set([64, current, ...flags.small.split(',').filter(Boolean).map(Number)])];
  const engines = smalls.map((k) => ({ name: `SMALL=${k}${k === 64 ? ' (before)' : ''}${k === current ? ' (ids.ts)' : ''}`, ...engineWithSmall(k) }));
  const HOUR = 60 * MIN;
  console.log(`\nsmall: customers holding n ids (UUIDs within the last hour, one new event every hour / n); µs per step (decode + 1 event + encode), median of rounds`);
  console.log(`  ${'n'.padEnd(7)}${engines.map((e) => e.name.padStart(24)).join('')}   vs ${engines[0].name}`);
  const sizes = flags.n?.split(',').map(Number) ?? [1, 5, 10, 20, 40, 60, 100, 1_000, 10_000];
  for (const n of sizes) {
    const customers = n >= 10_000 ? 4 : n >= 1_000 ? 20 : 200;
    const gap = Math.floor(HOUR / n);
    const now = t0 + 400 * DAY;
    // Same initial states for every engine: n events, gap apart, the newest at `now`.
    const texts = Array.from({ length: customers }, (_, c) => {
      const evs = Array.from({ length: n }, (_, i) => ({ ...event(i, c, now - (n - 1 - i) * gap), eventId: uuid() }));
      return encodeState(applyEvents(null, evs, rules).state);
    });
    const stores = engines.map(() => [...texts]);
    const clocks = Array.from({ length: customers }, () => now);
    const stepsPerRound = Math.max(customers, Math.round(40_000 / Math.max(n, 20)), n >= 100 ? Math.round(200_000 / n) : 0);
    const rounds = 9;
    const samples = engines.map(() => []);
    let i = 0;
    for (let r = 0; r < rounds + 1; r++) {
      const ns = engines.map(() => 0);
      for (let j = 0; j < stepsPerRound; j++, i++) {
        const c = i % customers;
        clocks[c] += gap;
        const e = { ...event(n + i, c, clocks[c]), eventId: uuid() };
        const out = [];
        // rotate which engine goes first
        for (let q = 0; q < engines.length; q++) {
          const k = (q + i) % engines.length;
          const { decodeState: dec, applyEvents: apply, encodeState: enc } = engines[k];
          const t = process.hrtime.bigint();
          const text = enc(apply(dec(stores[k][c]), [e], rules).state);
          ns[k] += Number(process.hrtime.bigint() - t);
          stores[k][c] = text;
          out[k] = text;
        }
        if (out.some((x) => x !== out[0])) throw new Error(`engines disagree at n=${n}`);
      }
      if (r > 0) ns.forEach((x, k) => samples[k].push(x / stepsPerRound / 1000)); // round 0 warms up
    }
    const med = samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
    const held = JSON.parse(stores[0][0]).d.length / 2;
    console.log(
      `  ${String(n).padEnd(7)}${med.map((x) => `${x.toFixed(1)} µs`.padStart(24)).join('')}   ` +
        med.slice(1).map((x) => `${(((x - med[0]) / med[0]) * 100).toFixed(0)} %`.padStart(6)).join(' ') +
        `   (ids held after: ${held})`,
    );
  }
  console.log(`  node ${process.version}, load ${require('os').loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

// ---- due: the re-evaluation the evaluator no longer does ----
if (only === '' || only === 'due') {
  const M = Math.min(N, 100_000);
  const store = new Map();
  let decode = 0;
  let due = 0;
  let step = 0;
  const times = Array.from({ length: M }, (_, i) => t0 + Math.floor((i / M) * 365 * DAY));
  for (let i = 0; i < M; i++) {
    const c = Math.floor(rnd() * CUSTOMERS);
    const e = event(i, c, times[i]);
    const prev = store.get(c);
    const a = process.hrtime.bigint();
    const s = prev ? decodeState(prev) : null;
    const b = process.hrtime.bigint();
    if (s) evaluateAt(s, s.c, rules);
    const d = process.hrtime.bigint();
    store.set(c, encodeState(applyEvents(s, [e], rules).state));
    const f = process.hrtime.bigint();
    decode += Number(b - a);
    due += Number(d - b);
    step += Number(f - d);
  }
  const us = (ns) => `${(ns / M / 1000).toFixed(1)} µs`;
  console.log(`\ndue: ${M} events over ${CUSTOMERS} customers, one event per batch (the usual case)`);
  console.log(`  decode ${us(decode)} + re-evaluation for the due time ${us(due)} + apply, evaluate, encode ${us(step)} per event`);
  console.log(`  the re-evaluation was ${((100 * due) / (decode + due + step)).toFixed(0)} % of the engine's per-event cost`);
}
