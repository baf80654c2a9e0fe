#!/usr/bin/env node
// The evaluator's CPU per event without I/O: a pool of customers, each batch replayed as
// the evaluator does it, in the same process and alternating so the machine's load hits
// every variant alike. Needs `pnpm build` first.
//   node services/evaluator/bench/replay-bench.js [events] [--customers=N] [--per-batch=K] [--hot=F] [--base=DIR]
// now:      the evaluator as built here — the decoded state kept between batches (state cache),
//           replayed in place, encoded once per customer and batch without its dedupe ids
//           (layout 3: the commit sends only the new ids);
// decoded:  the same engine, but the state decoded from its stored text at every batch and
//           copied per event (the evaluator's path before the state cache);
// base:     with --base=DIR, a build of another checkout (e.g. `git worktree add DIR 5a1f15d`,
//           then pnpm install and pnpm build there): its engine, rules and replay, as that
//           evaluator ran them (decode, copy per event, ids inline).
// --hot=F gives one customer the share F of all events (the hot key of a skewed workload).
'use strict';
const path = require('path');
const { parseArgs } = require('node:util');
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    customers: { type: 'string', default: '20000' },
    'per-batch': { type: 'string', default: '1' },
    hot: { type: 'string', default: '0' },
    base: { type: 'string', default: '' },
  },
});
const N = Number(positionals[0] ?? 200_000);
const CUSTOMERS = Number(flags.customers);
const PER_BATCH = Number(flags['per-batch']);
const HOT = Number(flags.hot);
const baseDir = flags.base;
const RULES = path.join(__dirname, '../../../rules/default.yaml');

function variant(root) {
  const req = (p) => require(path.join(root, p));
  return {
    engine: req('packages/engine/dist'),
    rules: req('packages/rules/dist').readRulesFile(RULES),
    steps: req('services/evaluator/dist/customer-steps.js'),
  };
}
const now = variant(path.join(__dirname, '../../..'));
const base = baseDir ? variant(path.resolve(baseDir)) : undefined;

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
function event(i, customer, t) {
  const r = rnd();
  const base = { eventId: `evt-${i}-${customer}`, customerId: `c${customer}`, occurredAt: t };
  if (r < 0.25) return { ...base, eventType: 'PURCHASE', attrs: { amountMinor: 5000, amountMinorBase: 1000 + Math.floor(rnd() * 20000), currency: 'EUR', itemCount: 2, quantity: 3, categories: rnd() < 0.3 ? ['outdoor'] : ['apparel'], skus: ['a', 'b'], channel: 'WEB' } };
  if (r < 0.85) return { ...base, eventType: 'EMAIL_CLICK', attrs: { campaignId: 'c', emailId: 'e', linkId: 'l' } };
  return { ...base, eventType: 'SUPPORT_TICKET', attrs: { ticketId: 't', status: 'RESOLVED', priority: 'LOW', satisfactionScore: rnd() < 0.5 ? null : 1 + Math.floor(rnd() * 5) } };
}
// Event times as a live stream gives them (the benchmark's generator: all within minutes,
// so every id stays within the 1 h lateness horizon), customers Zipf-ish (a few busy ones).
const events = [];
for (let i = 0; i < N; i++) {
  const c = HOT > 0 && rnd() < HOT ? 0 : Math.floor(CUSTOMERS * rnd() ** 2);
  events.push(event(i, c, T0 + Math.floor((i / N) * 20 * MIN)));
}
const batches = [];
for (let i = 0; i < N; i += PER_BATCH * 200) {
  const byCustomer = new Map();
  for (const e of events.slice(i, i + PER_BATCH * 200)) {
    const l = byCustomer.get(e.customerId);
    if (l) l.push(e);
    else byCustomer.set(e.customerId, [e]);
  }
  batches.push(byCustomer);
}

/** Bytes written per batch (state text, plus the new ids for layout 3) are counted as a check that all variants did the work. */
function runNow() {
  const { engine, rules, steps } = now;
  const cache = new Map();
  let bytes = 0;
  for (const b of batches) {
    for (const [c, evs] of b) {
      const s = cache.get(c) ?? { state: null, dueAt: null };
      const out = steps.outcomeOf(steps.replaySteps(s.state, evs, rules, s.dueAt, { inPlace: true }), undefined, { idsApart: true });
      bytes += out.state.length;
      for (const [id] of out.appliedIds) bytes += id.length;
      engine.compactIds(out.final);
      cache.set(c, { state: out.final, dueAt: out.nextDueAt });
    }
  }
  return bytes;
}
function decodedWith({ engine, rules, steps }) {
  return () => {
    const store = new Map();
    let bytes = 0;
    for (const b of batches) {
      for (const [c, evs] of b) {
        const s = store.get(c) ?? { state: null, dueAt: null };
        const out = steps.outcomeOf(steps.replaySteps(s.state ? engine.decodeState(s.state) : null, evs, rules, s.dueAt));
        bytes += out.state.length;
        store.set(c, { state: out.state, dueAt: out.nextDueAt });
      }
    }
    return bytes;
  };
}
const modes = { now: runNow, decoded: decodedWith(now), ...(base ? { base: decodedWith(base) } : {}) };
const results = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
for (let round = 0; round < 3; round++) {
  for (const [name, f] of Object.entries(modes)) {
    // CPU time of this process (user + system), less sensitive than wall time to a busy machine.
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    results[name].push((d.user + d.system) / N);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`CPU per event (user + system) on ${process.version}; ${N} events, ${CUSTOMERS} customers${HOT ? `, one with ${HOT * 100} % of events` : ''}, ~${PER_BATCH * 200} events per batch${base ? `; base = ${baseDir}` : ''}`);
for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(8)} ${med(r).toFixed(1)} µs/event (runs: ${r.map((x) => x.toFixed(1)).join(', ')})`);
