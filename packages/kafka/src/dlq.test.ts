import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS } from '@labelstream/contracts';
import { messageBytes } from './chunk';
import { DLQ_PREFIX_BYTES, toDeadLetter } from './dlq';

const source = { topic: 'storefront.purchases', partition: 4 };
const dl = { reason: 'OVERSIZE', message: 'the value is 1500000 bytes; the limit is 1000000' };
const NOW = Date.UTC(2026, 11, 6, 20, 0, 0);
/** The DLQ limit ingest created before issue 14: max(1 MiB broker default, 1 MB) + 64 KiB. */
const OLD_DLQ_LIMIT = 1_048_588 + 64 * 1024;

function raw(value: Buffer, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  return { key: Buffer.from('k-1'), value, headers: { trace: 'abc' }, timestamp: '1700000000000', attributes: 0, offset: '1234', ...extra } as unknown as KafkaMessage;
}

const h = (m: { headers?: unknown }, name: string) => (m.headers as Record<string, unknown>)[name]?.toString();

describe('toDeadLetter', () => {
  it('copies the key and value of a record that fits byte for byte, with the reason and source headers', () => {
    const value = Buffer.from('{"not json');
    const out = toDeadLetter(raw(value), source, dl, { now: NOW, maxRecordBytes: OLD_DLQ_LIMIT });
    expect(out.value).toBe(value);
    expect(out.key?.toString()).toBe('k-1');
    expect(h(out, 'trace')).toBeUndefined(); // original header values are never copied: names and count only
    expect(h(out, DLQ_HEADERS.headerNames)).toBe('trace');
    expect(h(out, DLQ_HEADERS.headersDropped)).toBe('1');
    expect(h(out, DLQ_HEADERS.reason)).toBe('OVERSIZE');
    expect(h(out, DLQ_HEADERS.sourceOffset)).toBe('1234');
    expect(h(out, DLQ_HEADERS.failedAt)).toBe('2026-12-06T20:00:00.000Z');
    expect(h(out, DLQ_HEADERS.truncated)).toBeUndefined();
  });

  it('turns a 1.5 MB reject that the DLQ cannot hold into a bounded record: reason, position, prefix, size and sha256 (issue 14)', () => {
    const value = Buffer.alloc(1_500_000, 'x');
    value.write('{"eventId":"e-1",');
    const out = toDeadLetter(raw(value), source, dl, { now: NOW, maxRecordBytes: OLD_DLQ_LIMIT });
    expect(messageBytes(out)).toBeLessThan(OLD_DLQ_LIMIT - 1024);
    expect((out.value as Buffer).equals(value.subarray(0, DLQ_PREFIX_BYTES))).toBe(true);
    expect(h(out, DLQ_HEADERS.truncated)).toBe('true');
    expect(h(out, DLQ_HEADERS.originalBytes)).toBe('1500000');
    expect(h(out, DLQ_HEADERS.sha256)).toBe(createHash('sha256').update(value).digest('hex'));
    expect(h(out, DLQ_HEADERS.reason)).toBe('OVERSIZE');
    expect([h(out, DLQ_HEADERS.sourceTopic), h(out, DLQ_HEADERS.sourcePartition), h(out, DLQ_HEADERS.sourceOffset)]).toEqual(['storefront.purchases', '4', '1234']);
    expect(out.key?.toString()).toBe('k-1');
    expect(h(out, 'trace')).toBeUndefined();
    expect(h(out, DLQ_HEADERS.headerNames)).toBe('trace');
  });

  it('cuts a long key; huge original headers cost nothing (their values are not copied)', () => {
    const key = Buffer.alloc(1_200_000, 'k');
    const out = toDeadLetter(raw(Buffer.from('{}'), { key, headers: { big: Buffer.alloc(1_200_000, 'h'), small: 'x' } }), source, dl, { maxRecordBytes: OLD_DLQ_LIMIT });
    expect(messageBytes(out)).toBeLessThan(OLD_DLQ_LIMIT);
    expect((out.key as Buffer).length).toBe(DLQ_PREFIX_BYTES);
    expect(h(out, DLQ_HEADERS.keySha256)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(h(out, 'big') === undefined).toBe(true); // (not printed: a megabyte)
    expect(h(out, DLQ_HEADERS.headersDropped)).toBe('2');
    expect(h(out, DLQ_HEADERS.headerNames)).toBe('big,small');
  });

  it('never copies a header value, and lists only names that are plain tokens (issue 14: personal data in headers)', () => {
    const canary = { 'x-customer-email': 'jane.canary@example.org', phone: '+44 20 7946 0958', 'jane.canary@example.org': 'x', 'with space': 'y' };
    const out = toDeadLetter(raw(Buffer.from('{}'), { headers: canary }), source, dl, { now: NOW });
    const text = JSON.stringify(Object.entries(out.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(text).not.toContain('canary');
    expect(text).not.toContain('7946');
    expect(h(out, DLQ_HEADERS.headerNames)).toBe('x-customer-email,phone');
    expect(h(out, DLQ_HEADERS.headersDropped)).toBe('4');
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`h${i}`, 'v']));
    const listed = h(toDeadLetter(raw(Buffer.from('{}'), { headers: many }), source, dl), DLQ_HEADERS.headerNames)!;
    expect(listed.split(',')).toHaveLength(32);
  });

  it('copies the values of the pipeline\'s own headers it is told to keep, and only those', () => {
    const headers = { 'ls-seq': '7', 'ls-rules-version': 'v2', 'x-customer-email': 'jane.canary@example.org' };
    const out = toDeadLetter(raw(Buffer.from('{}'), { headers }), source, dl, { now: NOW, keepHeaders: ['ls-seq', 'ls-rules-version', 'ls-decision-id'] });
    expect(h(out, 'ls-seq')).toBe('7');
    expect(h(out, 'ls-rules-version')).toBe('v2');
    expect(h(out, 'ls-decision-id')).toBeUndefined();
    expect(JSON.stringify(Object.entries(out.headers ?? {}).map(([k, v]) => [k, String(v)]))).not.toContain('canary');
    expect(h(out, DLQ_HEADERS.headerNames)).toBe('x-customer-email');
    expect(h(out, DLQ_HEADERS.headersDropped)).toBe('1');
  });

  it('a record without headers gets no header-name headers', () => {
    const out = toDeadLetter(raw(Buffer.from('{}'), { headers: {} }), source, dl);
    expect(h(out, DLQ_HEADERS.headersDropped)).toBeUndefined();
    expect(h(out, DLQ_HEADERS.headerNames)).toBeUndefined();
  });

  it('has no size limit unless given one (the evaluator and publisher copy records of our own topics)', () => {
    const value = Buffer.alloc(3_000_000);
    expect(toDeadLetter(raw(value), source, dl).value).toBe(value);
  });
});
