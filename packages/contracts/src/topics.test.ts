import { COMPATIBILITY, DEFAULT_TOPICS, DLQ_HEADERS, subjectFor } from './index';

describe('topic and subject names', () => {
  it('use TopicNameStrategy', () => {
    expect(subjectFor(DEFAULT_TOPICS.customerEvents)).toBe('labels.customer-events.v1-value');
    expect(subjectFor(DEFAULT_TOPICS.labelEvents)).toBe('crm.label-events.v1-value');
    expect(COMPATIBILITY).toBe('BACKWARD');
  });

  it('name every topic once', () => {
    const names = Object.values(DEFAULT_TOPICS);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.isFrozen(DEFAULT_TOPICS)).toBe(true);
  });

  it('prefix every DLQ header and name each once', () => {
    const headers = Object.values(DLQ_HEADERS);
    expect(new Set(headers).size).toBe(headers.length);
    for (const h of headers) expect(h).toMatch(/^ls-dlq-[a-z][a-z0-9-]*$/); // digits for ls-dlq-sha256
  });
});
