#!/usr/bin/env node
// Engine CPU cost per event with the default rules, as the evaluator pays it:
// decodeState → applyEvents (one event) → encodeState, for a pool of customers.
// Needs the compiled packages: `pnpm build` (or `npx tsc -b packages/engine`) first.
// Run: node packages/engine/bench/engine-bench.js [events]
'use strict';
const path = require('path');
const { readRulesFile } = require('@labelstream/rules');
const { applyEvents, decodeState, encodeState } = require('../dist');

const N = Number(process.argv[2] ?? 200_000);
const CUSTOMERS = 2_000;
const DAY = 86_400_000;
const rules = readRulesFile(path.join(__dirname, '../../../rules/default.yaml'));

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

const store = new Map();
// one year of history spread over N events
const times = Array.from({ length: N }, (_, i) => t0 + Math.floor((i / N) * 365 * DAY));
const t = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const c = Math.floor(rnd() * CUSTOMERS);
  const prev = store.get(c);
  const step = applyEvents(prev ? decodeState(prev) : null, [event(i, c, times[i])], rules);
  store.set(c, encodeState(step.state));
}
const ns = Number(process.hrtime.bigint() - t);
const sizes = [...store.values()].map((s) => Buffer.byteLength(s)).sort((a, b) => a - b);
const pct = (p) => sizes[Math.min(sizes.length - 1, Math.floor((p / 100) * sizes.length))];
console.log(`${N} events over ${CUSTOMERS} customers (~${Math.round(N / CUSTOMERS)} events each over a year), node ${process.version}`);
console.log(`decode+apply+encode: ${Math.round(N / (ns / 1e9))} events/s, ${(ns / N / 1000).toFixed(1)} µs/event`);
console.log(`state bytes: p50 ${pct(50)}, p90 ${pct(90)}, p99 ${pct(99)}, max ${sizes[sizes.length - 1]}`);
