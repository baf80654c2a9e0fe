/**
 * The services' shared lifecycle (packages/service-runtime), on the built evaluator run as
 * an orchestrator runs it (the spawn helper of packages/testkit):
 * 1. SIGTERM: it exits 0 within SHUTDOWN_TIMEOUT, having left the group, so the other
 *    member takes its partition over at once — long before the session timeout (60 s here)
 *    after which the group would give away the partitions of a member that just vanished.
 * 2. Fatal: a batch that fails for good (a customer's Redis state of the wrong type, a
 *    non-retriable WRONGTYPE) is logged with its error, and the process drains and exits 1
 *    by itself.
 */
import Redis from 'ioredis';
import { PartitionKeys } from '@labelstream/redis-state';
import { connectStack, spawnService, uniqueName, waitFor, within, type ServiceProcess, type StackEnv } from '@labelstream/testkit';
import { evaluatorProcessEnv, makeTopics, produceEvents, purchaseEvent, type EvaluatorTopics } from '../support/evaluator-harness';

jest.setTimeout(180_000);

const SHUTDOWN_MS = 5000;
const SESSION_MS = 60_000;

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

function evaluatorEnv(topics: EvaluatorTopics, groupId: string, keyPrefix: string): Record<string, string> {
  return evaluatorProcessEnv(env, topics, groupId, keyPrefix, { CONSUMER_SESSION_TIMEOUT: `${SESSION_MS}ms`, SHUTDOWN_TIMEOUT: `${SHUTDOWN_MS}ms` });
}

async function start(vars: Record<string, string>): Promise<ServiceProcess> {
  const svc = await spawnService('evaluator', { env: vars });
  running.push(svc);
  return svc;
}

/** What the member's /readyz says it holds and whether it is ready. */
async function readiness(svc: ServiceProcess, topic: string): Promise<{ ready: boolean; assigned: number[]; owned: number[] }> {
  const res = await fetch(`http://127.0.0.1:${svc.port}/readyz`);
  const body = (await res.json()) as { consumer?: { assignment?: Record<string, number[]> }; owned?: number[] };
  return { ready: res.status === 200, assigned: [...(body.consumer?.assignment?.[topic] ?? [])].sort(), owned: body.owned ?? [] };
}

describe('service lifecycle (evaluator as a child process)', () => {
  it('SIGTERM exits 0 within the bound and the other member takes its partition over at once', async () => {
    const topics = await makeTopics(env, 2);
    const vars = evaluatorEnv(topics, uniqueName('it-lc-g'), uniqueName('it-lc'));
    const a = await start(vars);
    const b = await start(vars);
    let seen = {};
    await waitFor(
      'one partition each',
      async () => {
        const [ra, rb] = await Promise.all([readiness(a, topics.customerEvents), readiness(b, topics.customerEvents)]);
        seen = { a: ra, b: rb };
        return ra.ready && rb.ready && ra.assigned.length === 1 && rb.assigned.length === 1;
      },
      { timeoutMs: 60_000, intervalMs: 200, lastSeen: () => seen },
    );

    const stopped = await b.stop(SHUTDOWN_MS + 5000);
    expect(stopped).toMatchObject({ code: 0, signal: null, forced: false });
    expect(b.output()).toContain('stopped cleanly');

    // Half the session timeout: only a member that left the group lets this pass.
    await waitFor(
      'the remaining member to own both partitions',
      async () => {
        const r = await readiness(a, topics.customerEvents);
        seen = r;
        return r.ready && r.assigned.join() === '0,1' && r.owned.join() === '0,1';
      },
      { timeoutMs: SESSION_MS / 2, intervalMs: 200, lastSeen: () => seen },
    );
    expect((await a.stop(SHUTDOWN_MS + 5000)).code).toBe(0);
  });

  it('a batch that fails for good is logged with its error, drained, and exits 1', async () => {
    const topics = await makeTopics(env, 1);
    const keyPrefix = uniqueName('it-lc');
    const svc = await start(evaluatorEnv(topics, uniqueName('it-lc-g'), keyPrefix));
    // Corrupt state: the customer's dedupe ids (a sorted set) as a plain string.
    await redis.set(new PartitionKeys(keyPrefix, 0).ids('c-bad'), 'not a sorted set');
    await produceEvents(env, topics.customerEvents, [purchaseEvent('c-bad', Date.now(), 1000)]);

    const exit = await within('the evaluator to exit by itself', 60_000, svc.exited);
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = svc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { message?: string }; exitCode?: number });
    expect(lines.some((l) => l.level === 'fatal' && l.msg === 'consumer stopped for good')).toBe(true);
    expect(lines.some((l) => l.level === 'fatal' && /WRONGTYPE/.test(JSON.stringify(l.err ?? {})))).toBe(true);
    // One path: a fatal line (the first: the consumer's own, or the service's), then the
    // drain, then the exit line with its code. On failure the lines are shown.
    const fatalAt = lines.findIndex((l) => l.level === 'fatal');
    const drainAt = lines.findIndex((l) => l.msg === 'draining');
    const order = lines.map((l, i) => `${i} ${l.level} ${l.msg}`);
    expect({ fatalBeforeDrain: fatalAt >= 0 && drainAt > fatalAt, order }).toEqual({ fatalBeforeDrain: true, order });
    expect(lines.slice(drainAt).map((l) => ({ msg: l.msg, exitCode: l.exitCode }))).toContainEqual({ msg: 'exiting', exitCode: 1 });
  });
});
