#!/usr/bin/env node
// The evaluator's CPU per event without I/O: a pool of customers, each event replayed as
// the evaluator does it. Needs `pnpm build` first.
//   node services/evaluator/bench/replay-bench.js [events] [--customers=N] [--per-batch=K] [--engine=DIR]
// cached:  the decoded state kept between batches (EVALUATOR_STATE_CACHE), replay in place,
//          encode once per customer and batch — the evaluator now;
// decoded: decode the stored state at every batch, a copy per event (the evaluator before).
// --engine=DIR: another build of packages/engine (e.g. from an older commit) for both modes.
'use strict';
const path = require('path');
const args = process.argv.slice(2);
const opt = (name, dflt) => Number((args.find((a) => a.startsWith(`--${name}=`)) ?? `=${dflt}`).split('=')[1]);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 200_000);
const CUSTOMERS = opt('customers', 20_000);
const PER_BATCH = opt('per-batch', 1);
const engineDir = (args.find((a) => a.startsWith('--engine=')) ?? '').slice('--engine='.length);
const engine = require(engineDir ? path.resolve(engineDir) : '@labelstream/engine');
const { readRulesFile } = require('@labelstream/rules');
const { outcomeOf, replaySteps } = require('../dist/customer-steps');
const rules = readRulesFile(path.join(__dirname, '../../../rules/default.yaml'));

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
// Events spread over 90 days of event time, customers Zipf-ish (a few busy ones).
const events = [];
for (let i = 0; i < N; i++) {
  const c = Math.floor(CUSTOMERS * rnd() ** 2);
  events.push(event(i, c, T0 + Math.floor((i / N) * 90 * 24 * 60) * MIN));
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

function runCached() {
  const cache = new Map();
  let bytes = 0;
  for (const b of batches) {
    for (const [c, evs] of b) {
      const s = cache.get(c) ?? { state: null, dueAt: null };
      const out = outcomeOf(replaySteps(s.state, evs, rules, s.dueAt, { inPlace: true }));
      bytes += out.state.length;
      cache.set(c, { state: out.final ?? engine.decodeState(out.state), dueAt: out.nextDueAt });
    }
  }
  return bytes;
}
function runDecoded() {
  const store = new Map();
  let bytes = 0;
  for (const b of batches) {
    for (const [c, evs] of b) {
      const s = store.get(c) ?? { state: null, dueAt: null };
      const out = outcomeOf(replaySteps(s.state ? engine.decodeState(s.state) : null, evs, rules, s.dueAt));
      bytes += out.state.length;
      store.set(c, { state: out.state, dueAt: out.nextDueAt });
    }
  }
  return bytes;
}
const modes = { cached: runCached, decoded: runDecoded };
const results = { cached: [], decoded: [] };
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
console.log(`CPU per event; ${N} events, ${CUSTOMERS} customers, ~${PER_BATCH * 200} events per batch${engineDir ? `, engine ${engineDir}` : ''}`);
for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(8)} ${med(r).toFixed(1)} µs/event (runs: ${r.map((x) => x.toFixed(1)).join(', ')})`);
