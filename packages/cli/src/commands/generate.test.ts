import { runGenerator, type GeneratorKafka, type GenerateOptions } from './generate';
import type { GeneratedMessage } from '@labelstream/generator';

type Batch = { topicMessages: Array<{ topic: string; messages: Array<{ key: string | null; value: Buffer | null }> }> };

function fakeKafka(behaviour: { delayMs?: number; failEvery?: number; hang?: boolean } = {}) {
  const batches: Batch[] = [];
  const created: string[] = [];
  let calls = 0;
  let inflight = 0;
  let maxInflight = 0;
  let connected = false;
  const kafka: GeneratorKafka = {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) => {
        created.push(...topics.map((t) => t.topic));
        return true;
      },
    }) as unknown as ReturnType<GeneratorKafka['admin']>,
    producer: () => ({
      connect: async () => { connected = true; },
      disconnect: async () => { connected = false; },
      sendBatch: async (b: Batch) => {
        calls++;
        inflight++;
        maxInflight = Math.max(maxInflight, inflight);
        try {
          if (behaviour.hang) await new Promise(() => {});
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (behaviour.failEvery && calls % behaviour.failEvery === 0) throw new Error('boom');
          batches.push(b);
          return [];
        } finally {
          inflight--;
        }
      },
    }) as unknown as ReturnType<GeneratorKafka['producer']>,
  };
  return { kafka, batches, created, stats: () => ({ calls, maxInflight, connected }) };
}

// The fake-clock tests step virtual time 5 ms at a time: thousands of steps, which on a loaded
// two-core CI machine can pass jest's 5 s default. A bound on the test, not on the code's speed.
jest.setTimeout(60_000);

const base: GenerateOptions = { brokers: ['x:1'], rate: 0, customers: 100, durationMs: 0, seed: 1, malformedRatio: 0.01, reportEveryMs: 0 };
/**
 * Runs `work` on jest's fake clock (Date.now and timers), advancing virtual time in small
 * steps until it settles: pacing is checked against the schedule, never against how fast
 * the machine happens to be. Fails if it has not settled after `maxVirtualMs`.
 */
async function onFakeClock<T>(work: () => Promise<T>, maxVirtualMs = 60_000): Promise<{ result: T; virtualMs: number }> {
  jest.useFakeTimers({ now: 1_700_000_000_000 });
  try {
    const t0 = Date.now();
    let settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    work().then(
      (value) => (settled = { ok: true, value }),
      (error: unknown) => (settled = { ok: false, error }),
    );
    while (!settled) {
      if (Date.now() - t0 > maxVirtualMs) throw new Error(`not settled after ${maxVirtualMs} ms of virtual time`);
      await jest.advanceTimersByTimeAsync(5);
    }
    // Narrowed by hand: TypeScript does not see the callbacks assign `settled`.
    const s = settled as { ok: true; value: T } | { ok: false; error: unknown };
    if (!s.ok) throw s.error;
    return { result: s.value, virtualMs: Date.now() - t0 };
  } finally {
    jest.useRealTimers();
  }
}

const count = (batches: Batch[]) => batches.reduce((n, b) => n + b.topicMessages.reduce((m, t) => m + t.messages.length, 0), 0);

it('prints one summary line: what was sent, by kind, how fast, and the seed to replay it', async () => {
  const f = fakeKafka({ delayMs: 0 });
  const lines: string[] = [];
  const s = await runGenerator({ ...base, count: 2000 }, { kafka: f.kafka, print: (l) => lines.push(l) });
  expect(lines).toHaveLength(1);
  const done = /^\[generate\] done \(count\): sent=2000 failed=0 unsent=0 malformed=(\d+) in \d+\.\d\ds \(\d+\.\d\/s\); purchase=(\d+) email-click=(\d+) support-ticket=(\d+); seed=1$/.exec(lines[0]!);
  expect(done).not.toBeNull();
  expect(Number(done![2]) + Number(done![3]) + Number(done![4])).toBe(2000);
  expect(Number(done![1])).toBe(s.malformed);
});

it('sends exactly --count messages as fast as possible, one batch in flight, creating prefixed topics', async () => {
  const f = fakeKafka({ delayMs: 2 });
  const lines: string[] = [];
  const sentIds: GeneratedMessage[] = [];
  const { result: s } = await onFakeClock(() =>
    runGenerator({ ...base, count: 6_000, topicPrefix: 'p.' }, { kafka: f.kafka, print: (l) => lines.push(l), onSent: (ms) => sentIds.push(...ms) }),
  );
  expect(s.stoppedBy).toBe('count');
  expect(s.sent).toBe(6_000);
  expect(count(f.batches)).toBe(6_000);
  expect(sentIds).toHaveLength(6_000);
  expect(f.batches.length).toBeGreaterThan(1);
  expect(f.stats().maxInflight).toBe(1);
  expect(f.stats().connected).toBe(false);
  expect(f.created.sort()).toEqual(['p.storefront.email-clicks', 'p.storefront.purchases', 'p.storefront.support-tickets']);
  expect(s.byKind.purchase + s.byKind['email-click'] + s.byKind['support-ticket']).toBe(6_000);
  expect(lines.at(-1)).toMatch(/done \(count\): sent=6000/);
  for (const b of f.batches) {
    const bytes = b.topicMessages.reduce((n, t) => n + t.messages.reduce((m, x) => m + (x.value?.length ?? 0), 0), 0);
    expect(bytes).toBeLessThanOrEqual(512 * 1024);
  }
});

it('paces open loop at the requested rate', async () => {
  const f = fakeKafka();
  const { result: s } = await onFakeClock(() =>
    runGenerator({ ...base, rate: 2000, durationMs: 1500, malformedRatio: 0 }, { kafka: f.kafka, print: () => {}}),
  );
  expect(s.stoppedBy).toBe('duration');
  // Everything due before the last 15 ms tick of the 1.5 s at 2000/s, and no more.
  expect(s.sent).toBeGreaterThanOrEqual(2970);
  expect(s.sent).toBeLessThanOrEqual(3000);
  expect(s.unsent).toBe(0);
});

it('keeps the schedule when the broker is slow (backlog, not a lower rate)', async () => {
  const f = fakeKafka({ delayMs: 200 });
  const lines: string[] = [];
  const { result: s } = await onFakeClock(() =>
    runGenerator({ ...base, rate: 5000, durationMs: 1000, malformedRatio: 0, reportEveryMs: 400 }, { kafka: f.kafka, print: (l) => lines.push(l) }),
  );
  // Generated on schedule (all due before the last tick) although each send takes 200 ms.
  expect(s.generated).toBeGreaterThanOrEqual(4925);
  expect(f.stats().calls).toBeLessThan(10);
  expect(s.sent).toBe(s.generated); // flushed at the end
  expect(lines.some((l) => /backlog=[1-9]/.test(l))).toBe(true);
});

it('stops on abort, flushes, and counts failed batches', async () => {
  const f = fakeKafka({ failEvery: 3 });
  const ac = new AbortController();
  const lines: string[] = [];
  const { result: s } = await onFakeClock(() => {
    setTimeout(() => ac.abort(), 300);
    return runGenerator({ ...base, rate: 10_000 }, { kafka: f.kafka, signal: ac.signal, print: (l) => lines.push(l) });
  });
  expect(s.stoppedBy).toBe('signal');
  expect(s.failed).toBeGreaterThan(0);
  expect(s.sent + s.failed).toBe(s.generated);
  expect(s.lastError).toMatch(/boom/);
  expect(lines.some((l) => l.includes('send failed'))).toBe(true);
});

it('bounds shutdown when the broker never answers', async () => {
  const f = fakeKafka({ hang: true });
  const ac = new AbortController();
  const { result: s, virtualMs } = await onFakeClock(() => {
    setTimeout(() => ac.abort(), 100);
    return runGenerator({ ...base, rate: 1000, shutdownTimeoutMs: 300 }, { kafka: f.kafka, signal: ac.signal, print: () => {} });
  });
  // Abort at 100 ms, then at most the flush bound and the disconnect bound (300 ms each).
  expect(virtualMs).toBeLessThanOrEqual(100 + 300 + 300 + 20);
  expect(s.unsent).toBeGreaterThan(0);
  expect(s.sent).toBe(0);
});

it('sends the oversize message in a batch of its own', async () => {
  const f = fakeKafka();
  await runGenerator({ ...base, count: 3000, malformedRatio: 1, includeOversize: true, seed: 4 }, { kafka: f.kafka, print: () => {} });
  const big = f.batches.filter((b) => b.topicMessages.some((t) => t.messages.some((m) => (m.value?.length ?? 0) > 1024 * 1024)));
  expect(big.length).toBeGreaterThan(0);
  for (const b of big) expect(count([b])).toBe(1);
});
