/**
 * A backfill cut short by a crash, on the real stack and the built evaluator (README
 * "Changing rules"): a rules deploy redefines a feature's filter, so the switch first fills
 * the new storage key from the input's history. The evaluator runs with
 * EVALUATOR_BACKFILL_MAX_CUSTOMERS far below the partition's customers, so the backfill
 * goes in many passes, each writing its shard's customers; it is SIGKILLed after a few
 * passes, with some states already holding the new key and the partition still on the old
 * rules. A new evaluator (one pass) backfills again and switches: every customer's
 * redefined feature then holds exactly what live processing under the new rules would hold
 * (no count doubled by the re-run), and the only label changes are those the new filter
 * makes, each RULES_CHANGED under the new version.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { CustomerEvent, LabelDecision } from '@labelstream/contracts';
import { applyEvents, decodeState, evaluateAt, toEngineEvent } from '@labelstream/engine';
import { PartitionKeys, RulesChannel } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { collect, connectStack, spawnService, testKafka, uniqueName, waitFor, type ServiceProcess, type StackEnv } from '@labelstream/testkit';
import { decodeDecisions, evaluatorProcessEnv, makeTopics, produceEvents, purchaseEvent, type EvaluatorTopics } from '../support/evaluator-harness';

jest.setTimeout(300_000);

const CUSTOMERS = 3000;
const PER_CUSTOMER = 4;
/** Customers per backfill pass of the first evaluator: about 30 passes. */
const SMALL_PASS = 100;

const V1 = `version: "it-bfc-v1"
features:
  eur_1h: { event: purchase, agg: sum, field: amountMinorBase, window: 1h }
  orders: { event: purchase, agg: count }
labels:
  big_eur: { category: value, description: d, when: "eur_1h >= 15000" }
  repeat: { category: behaviour, description: d, when: "orders >= 2" }
`;
const V2 = V1.replace('it-bfc-v1', 'it-bfc-v2').replace('window: 1h }', `window: 1h, where: "event.currency == 'EUR'" }`);

let env: StackEnv;
let redis: Redis;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  env = await connectStack();
  redis = new Redis(env.redisUrl);
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.kill()));
  redis.disconnect();
});

async function start(topics: EvaluatorTopics, groupId: string, keyPrefix: string, rulesFile: string, maxCustomers: number): Promise<ServiceProcess> {
  const svc = await spawnService('evaluator', {
    env: evaluatorProcessEnv(env, topics, groupId, keyPrefix, {
      RULES_FILE: rulesFile,
      EVALUATOR_RULES_POLL: '100ms',
      EVALUATOR_BACKFILL_MAX_CUSTOMERS: String(maxCustomers),
      CONSUMER_SESSION_TIMEOUT: '6s',
    }),
  });
  running.push(svc);
  return svc;
}

/** The backfill a member's /readyz reports for partition 0, if one is running. */
async function backfillOf(svc: ServiceProcess): Promise<{ passes: number; customers: number } | undefined> {
  const res = await fetch(`http://127.0.0.1:${svc.port}/readyz`);
  const body = (await res.json()) as { rules?: { partitions?: Record<string, { backfill?: { passes: number; customers: number } }> } };
  return body.rules?.partitions?.['0']?.backfill;
}

/** The customers' purchases: EUR and USD mixed so that the EUR-only filter moves some below big_eur's threshold. */
function history(t: number): CustomerEvent[] {
  const out: CustomerEvent[] = [];
  for (let j = 0; j < PER_CUSTOMER; j++) {
    for (let i = 0; i < CUSTOMERS; i++) {
      const e = purchaseEvent(`bc-${i}`, t + j * 1000, [5000, 6000, 7000, 3000][j]!);
      out.push((i + j) % 3 === 0 ? { ...e, purchase: { ...e.purchase!, currency: 'USD' } } : e);
    }
  }
  return out;
}

describe('backfill cut short by a crash', () => {
  it('a new owner backfills again and switches: exact feature values, only the changes the new filter makes', async () => {
    const topics = await makeTopics(env, 1);
    const prefix = uniqueName('it-bfc');
    const groupId = uniqueName('it-bfc-g');
    const dir = mkdtempSync(join(tmpdir(), 'ls-bfc-'));
    const rulesFile = join(dir, 'v1.yaml');
    writeFileSync(rulesFile, V1);
    const events = history(Date.now());
    const keys = new PartitionKeys(prefix, 0);
    const out = await collect(testKafka(env), [topics.decisions]);
    const decisions = async (): Promise<LabelDecision[]> => decodeDecisions(env, out.messages.map((m) => m.value));
    try {
      const first = await start(topics, groupId, prefix, rulesFile, SMALL_PASS);
      for (let i = 0; i < events.length; i += 2000) await produceEvents(env, topics.customerEvents, events.slice(i, i + 2000));
      await waitFor('every event applied', async () => ((await redis.get(keys.applied)) === String(events.length) ? true : undefined), { timeoutMs: 120_000 });
      const v1Count = (await decisions()).length;

      const v2 = loadRules(V2);
      await new RulesChannel(redis, prefix).publish(V2, { version: v2.version, hash: v2.hash }, 0, Date.now());
      let seen: unknown;
      await waitFor('a few passes of the backfill done', async () => {
        seen = await backfillOf(first);
        return (seen as { passes: number } | undefined)?.passes !== undefined && (seen as { passes: number }).passes >= 3 ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 50, lastSeen: () => seen });
      await first.kill();

      // Cut short: still on v1, and some (not all) stored states already hold the redefined key.
      const channel = new RulesChannel(redis, prefix);
      expect((await channel.partition(0)).seq).toBe(0);
      const newKey = v2.features.find((f) => f.name === 'eur_1h')!.storageKey;
      let filled = 0;
      for (let i = 0; i < CUSTOMERS; i++) {
        const raw = (await redis.get(keys.customer(`bc-${i}`)))!;
        if (decodeState(raw.slice(raw.indexOf('|') + 1)).f[newKey] !== undefined) filled++;
      }
      expect(filled).toBeGreaterThan(0);
      expect(filled).toBeLessThan(CUSTOMERS);

      const second = await start(topics, groupId, prefix, rulesFile, 100_000);
      await waitFor('switched to v2 and swept', async () => {
        const p = await channel.partition(0);
        return p.seq === 1 && p.cursor === null ? true : undefined;
      }, { timeoutMs: 120_000 });

      // Every customer's redefined feature is what live processing under v2 holds.
      const v1 = loadRules(V1);
      const expectedLeave: string[] = [];
      for (let i = 0; i < CUSTOMERS; i++) {
        const id = `bc-${i}`;
        const mine = events.filter((e) => e.customerId === id).map(toEngineEvent);
        const raw = (await redis.get(keys.customer(id)))!;
        const state = decodeState(raw.slice(raw.indexOf('|') + 1));
        const want = applyEvents(null, mine, v2);
        expect({ id, eur: evaluateAt(state, state.c, v2).features.eur_1h }).toEqual({ id, eur: want.features.eur_1h });
        if (applyEvents(null, mine, v1).labels.includes('big_eur') && !want.labels.includes('big_eur')) expectedLeave.push(id);
      }
      expect(expectedLeave.length).toBeGreaterThan(0);
      await waitFor('the v2 decisions', async () => ((await decisions()).length >= v1Count + expectedLeave.length ? true : undefined), { timeoutMs: 60_000 });
      const after = (await decisions()).slice(v1Count);
      expect(after.every((d) => d.cause.kind === 'RULES_CHANGED' && d.rulesVersion === 'it-bfc-v2')).toBe(true);
      expect(after.map((d) => `${d.customerId} ${d.changes.map((c) => `${c.change}:${c.label}`).join(' ')}`).sort()).toEqual(expectedLeave.map((id) => `${id} REMOVED:big_eur`).sort());
      expect(second.output()).toMatch(/features backfilled from history/);
    } finally {
      await out.stop();
    }
  });
});
