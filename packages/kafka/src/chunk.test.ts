import fc from 'fast-check';
import type { Message, Producer } from 'kafkajs';
import { chunkBySize, chunkMessages, messageBytes } from './chunk';
import { sendAll, sendChunked } from './producer';

const msg = (bytes: number, key = 'k'): Message => ({ key, value: Buffer.alloc(bytes) });

describe('chunkMessages', () => {
  it('keeps order and keeps each run under the limit', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ i, m: msg(100) }));
    const runs = chunkMessages(items, (x) => x.m, 300);
    expect(runs.map((r) => r.length)).toEqual([2, 2, 2, 2, 2]);
    expect(runs.flat().map((x) => x.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('sends a message larger than the limit on its own, and never an empty run', () => {
    expect(chunkMessages([msg(10), msg(1000), msg(10)], (m) => m, 100).map((r) => r.length)).toEqual([1, 1, 1]);
    expect(chunkMessages([], (m: Message) => m, 100)).toEqual([]);
  });
});

describe('sendChunked and sendAll', () => {
  it('sendChunked splits a large output into requests under 512 KiB, in order per topic; sendAll sends one', async () => {
    const sent: Array<Array<{ topic: string; n: number; bytes: number }>> = [];
    const producer = {
      sendBatch: async (b: { topicMessages: Array<{ topic: string; messages: Message[] }> }) =>
        void sent.push(b.topicMessages.map((t) => ({ topic: t.topic, n: t.messages.length, bytes: t.messages.reduce((n, m) => n + messageBytes(m), 0) }))),
    } as unknown as Producer;
    const a = Array.from({ length: 3000 }, (_, i) => msg(400, `a${i}`));
    await sendChunked(producer, new Map([['a', a], ['b', [msg(10)]], ['empty', []]]));
    expect(sent.length).toBeGreaterThan(2);
    expect(sent.flat().filter((t) => t.topic === 'a').reduce((n, t) => n + t.n, 0)).toBe(3000);
    expect(sent.flat().some((t) => t.topic === 'empty')).toBe(false);
    for (const req of sent) expect(req.reduce((n, t) => n + t.bytes, 0)).toBeLessThanOrEqual(512 * 1024);
    sent.length = 0;
    await sendAll(producer, new Map([['a', a]]));
    expect(sent).toHaveLength(1);
  });
});

describe('chunkBySize', () => {
  it('keeps order, never exceeds the limit except for single oversize items, never returns empty runs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.integer({ min: 1, max: 100 }), (sizes, max) => {
        const chunks = chunkBySize(sizes, (s) => s, max);
        expect(chunks.flat()).toEqual(sizes);
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0);
          if (c.length > 1) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(max);
        }
      }),
    );
    expect(chunkBySize([5, 5, 5], (s) => s, 10)).toEqual([[5, 5], [5]]);
    expect(chunkBySize([20, 1], (s) => s, 10)).toEqual([[20], [1]]);
    expect(chunkBySize([], (s: number) => s, 10)).toEqual([]);
  });

  it('also bounds the count per run', () => {
    // items: [size, count]
    const items: Array<[number, number]> = [[1, 2], [1, 2], [1, 3], [1, 9], [1, 1]];
    expect(chunkBySize(items, (i) => i[0], 100, (i) => i[1], 5)).toEqual([[[1, 2], [1, 2]], [[1, 3]], [[1, 9]], [[1, 1]]]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 })), fc.integer({ min: 1, max: 20 }), (counts, max) => {
        const chunks = chunkBySize(counts, () => 0, 1, (c) => c, max);
        expect(chunks.flat()).toEqual(counts);
        for (const c of chunks) if (c.length > 1) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(max);
      }),
    );
  });
});
