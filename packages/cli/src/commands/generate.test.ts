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

const base: GenerateOptions = { brokers: ['x:1'], rate: 0, customers: 100, durationMs: 0, seed: 1, malformedRatio: 0.01, reportEveryMs: 0 };
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
  const s = await runGenerator({ ...base, count: 50_000, topicPrefix: 'p.' }, { kafka: f.kafka, print: (l) => lines.push(l), onSent: (ms) => sentIds.push(...ms) });
  expect(s.stoppedBy).toBe('count');
  expect(s.sent).toBe(50_000);
  expect(count(f.batches)).toBe(50_000);
  expect(sentIds).toHaveLength(50_000);
  expect(f.stats().maxInflight).toBe(1);
  expect(f.stats().connected).toBe(false);
  expect(f.created.sort()).toEqual(['p.storefront.email-clicks', 'p.storefront.purchases', 'p.storefront.support-tickets']);
  expect(s.byKind.purchase + s.byKind['email-click'] + s.byKind['support-ticket']).toBe(50_000);
  expect(lines.at(-1)).toMatch(/done \(count\): sent=50000/);
  for (const b of f.batches) {
    const bytes = b.topicMessages.reduce((n, t) => n + t.messages.reduce((m, x) => m + (x.value?.length ?? 0), 0), 0);
    expect(bytes).toBeLessThanOrEqual(512 * 1024);
  }
});

it('paces open loop at the requested rate and stamps scheduled times', async () => {
  const f = fakeKafka();
  const s = await runGenerator({ ...base, rate: 2000, durationMs: 1500, malformedRatio: 0 }, { kafka: f.kafka, print: () => {} });
  expect(s.stoppedBy).toBe('duration');
  expect(s.sent).toBeGreaterThan(2700);
  expect(s.sent).toBeLessThanOrEqual(3000);
  expect(s.unsent).toBe(0);
});

it('keeps the schedule when the broker is slow (backlog, not a lower rate)', async () => {
  const f = fakeKafka({ delayMs: 200 });
  const lines: string[] = [];
  const s = await runGenerator({ ...base, rate: 5000, durationMs: 1000, malformedRatio: 0, reportEveryMs: 400 }, { kafka: f.kafka, print: (l) => lines.push(l) });
  expect(s.generated).toBeGreaterThan(4500); // generated on schedule
  expect(s.sent).toBe(s.generated); // flushed at the end
  expect(lines.some((l) => /backlog=[1-9]/.test(l))).toBe(true);
});

it('stops on abort, flushes, and counts failed batches', async () => {
  const f = fakeKafka({ failEvery: 3 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const lines: string[] = [];
  const s = await runGenerator({ ...base, rate: 10_000 }, { kafka: f.kafka, signal: ac.signal, print: (l) => lines.push(l) });
  expect(s.stoppedBy).toBe('signal');
  expect(s.failed).toBeGreaterThan(0);
  expect(s.sent + s.failed).toBe(s.generated);
  expect(s.lastError).toMatch(/boom/);
  expect(lines.some((l) => l.includes('send failed'))).toBe(true);
});

it('bounds shutdown when the broker never answers', async () => {
  const f = fakeKafka({ hang: true });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const t0 = Date.now();
  const s = await runGenerator({ ...base, rate: 1000, shutdownTimeoutMs: 300 }, { kafka: f.kafka, signal: ac.signal, print: () => {} });
  expect(Date.now() - t0).toBeLessThan(2000);
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
