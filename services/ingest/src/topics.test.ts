import { ingestTopicSpecs, resolveRawTopics } from './topics';
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

describe('ingestTopicSpecs', () => {
  it('creates raw, canonical and DLQ topics with the defaults; the DLQ takes records larger than any raw one', () => {
    const specs = ingestTopicSpecs({
      rawTopics: raw,
      topics: { customerEvents: 'events', dlq: 'dlq', decisions: 'd', labelEvents: 'l', customerLabels: 'cl' },
      topicDefaults: { partitions: 6, replicationFactor: 3 },
      maxMessageBytes: 2_000_000,
    });
    expect(specs.map((s) => s.topic)).toEqual(['p', 'c', 's', 'events', 'dlq']);
    for (const s of specs) expect(s).toMatchObject({ numPartitions: 6, replicationFactor: 3 });
    expect(Number(specs[4]?.config?.['max.message.bytes'])).toBeGreaterThan(2_000_000);
  });
});
