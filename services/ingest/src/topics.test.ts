import { DLQ_HEADER_ROOM, ingestTopicSpecs, planRecordLimits, resolveRawTopics } from './topics';
import { InvalidIngestTopicsError } from './errors';

const raw = { purchases: 'p', emailClicks: 'c', supportTickets: 's' };
const outputs = { customerEvents: 'events', dlq: 'dlq' };

describe('resolveRawTopics', () => {
  it('maps each raw topic to its kind', () => {
    expect([...resolveRawTopics(raw, outputs)]).toEqual([
      ['p', 'purchase'],
      ['c', 'email-click'],
      ['s', 'support-ticket'],
    ]);
  });

  it('refuses one topic for two kinds, and a raw topic that is also an output', () => {
    expect(() => resolveRawTopics({ ...raw, emailClicks: 'p' }, outputs)).toThrow(InvalidIngestTopicsError);
    expect(() => resolveRawTopics({ ...raw, supportTickets: 'dlq' }, outputs)).toThrow(/both a raw input and an output/);
  });
});

const topics = { customerEvents: 'events', dlq: 'dlq', decisions: 'd', labelEvents: 'l', customerLabels: 'cl' };

describe('ingestTopicSpecs', () => {
  it('derives raw and DLQ sizes from the one setting: raw topics take rawMaxRecordBytes, the DLQ that plus header room', () => {
    const specs = ingestTopicSpecs({ rawTopics: raw, topics, topicDefaults: { partitions: 6, replicationFactor: 3 }, rawMaxRecordBytes: 2_097_152 });
    expect(specs.map((s) => s.topic)).toEqual(['p', 'c', 's', 'events', 'dlq']);
    for (const s of specs) expect(s).toMatchObject({ numPartitions: 6, replicationFactor: 3 });
    for (const s of specs.slice(0, 3)) expect(s.config?.['max.message.bytes']).toBe('2097152');
    expect(specs[3]?.config).toBeUndefined();
    expect(Number(specs[4]?.config?.['max.message.bytes'])).toBe(2_097_152 + DLQ_HEADER_ROOM);
  });
});

describe('planRecordLimits (start-up check of the topics as they are)', () => {
  const config = { rawTopics: raw, topics, rawMaxRecordBytes: 2_097_152 };

  it('as created: no warning, fetches twice the raw limit, the DLQ limit as read', () => {
    const plan = planRecordLimits(config, { p: 2_097_152, c: 2_097_152, s: 2_097_152, dlq: 2_097_152 + DLQ_HEADER_ROOM });
    expect(plan).toEqual({ fetchBytesPerPartition: 2 * 2_097_152, dlqMaxRecordBytes: 2_097_152 + DLQ_HEADER_ROOM, warnings: [] });
  });

  it('a DLQ created smaller (issue 14: ~1.1 MB under 2 MiB raw topics) is used, with a warning that larger rejects are truncated', () => {
    const plan = planRecordLimits(config, { p: 2_097_152, c: 1_048_588, s: 1_048_588, dlq: 1_114_124 });
    expect(plan.dlqMaxRecordBytes).toBe(1_114_124);
    expect(plan.warnings).toEqual([expect.stringMatching(/DLQ topic dlq accepts records up to 1114124 bytes.*truncated.*set its max.message.bytes to 2162688/)]);
  });

  it('a raw topic larger than the setting grows the fetch size, with a warning', () => {
    const plan = planRecordLimits(config, { p: 8_000_000, c: 1, s: 1, dlq: 9_000_000 });
    expect(plan.fetchBytesPerPartition).toBe(16_000_000);
    expect(plan.warnings).toEqual([expect.stringMatching(/raw topic p accepts records up to 8000000 bytes/)]);
  });

  it('refuses to start when the DLQ cannot hold even a truncated record, or its limit cannot be read', () => {
    expect(() => planRecordLimits(config, { p: 1, c: 1, s: 1, dlq: 10_000 })).toThrow(InvalidIngestTopicsError);
    expect(() => planRecordLimits(config, { p: 1, c: 1, s: 1 })).toThrow(/cannot read max.message.bytes of the DLQ topic dlq/);
  });
});
