#!/usr/bin/env node
// Heap per customer held in the evaluator's state cache (EVALUATOR_STATE_CACHE), for sizing
// its memory (docs/SCALING.md). Each of N customers gets K events through the evaluator's
// own replay, as replay-bench.js runs it, all within the rules' lateness horizon (so the
// state keeps every event id, as a just-active customer's cached state does); the decoded
// states are kept, and the heap growth after GC is divided by N. Needs `pnpm build` first.
//   node --expose-gc services/evaluator/bench/state-cache-heap.js [customers] [events per customer]
'use strict';
const path = require('path');
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 50_000);
const K = Number(process.argv[3] ?? 20);
const ROOT = path.join(__dirname, '../../..');
const engine = require(path.join(ROOT, 'packages/engine/dist'));
const rules = require(path.join(ROOT, 'packages/rules/dist')).readRulesFile(path.join(ROOT, 'rules/default.yaml'));
const steps = require(path.join(ROOT, 'services/evaluator/dist/customer-steps.js'));

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
// Event ids as long as the UUIDs producers send (36 characters).
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
function event(i, customer, t) {
  const r = rnd();
  const base = { eventId: id(i), customerId: `c${customer}`, occurredAt: t };
  if (r < 0.25) return { ...base, eventType: 'PURCHASE', attrs: { amountMinor: 5000, amountMinorBase: 1000 + Math.floor(rnd() * 20000), currency: 'EUR', itemCount: 2, quantity: 3, categories: ['apparel'], skus: ['a', 'b'], channel: 'WEB' } };
  if (r < 0.85) return { ...base, eventType: 'EMAIL_CLICK', attrs: { campaignId: 'c', emailId: 'e', linkId: 'l' } };
  return { ...base, eventType: 'SUPPORT_TICKET', attrs: { ticketId: 't', status: 'RESOLVED', priority: 'LOW', satisfactionScore: 3 } };
}
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

const T0 = Date.now() - 10 * 60_000;
const cache = new Map();
const before = heap();
let i = 0;
for (let c = 0; c < N; c++) {
  let entry = { state: null, dueAt: null };
  for (let k = 0; k < K; k++) {
    const out = steps.outcomeOf(steps.replaySteps(entry.state, [event(i++, c, T0 + k * 1000)], rules, entry.dueAt, { inPlace: true }), undefined, { idsApart: true });
    engine.compactIds(out.final);
    entry = { state: out.final, dueAt: out.nextDueAt };
  }
  cache.set(`c${c}`, entry);
}
const perCustomer = (heap() - before) / cache.size;
console.log(`${process.version}: ${cache.size} cached customers, ${K} events each: ${Math.round(perCustomer)} B of heap per customer, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
