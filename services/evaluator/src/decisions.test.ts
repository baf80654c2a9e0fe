import { historyEntry, parseHistoryEntry, type PendingDecision } from './decisions';

const base: PendingDecision = {
  customerId: 'c-1',
  effectiveAt: 1_763_856_000_000,
  decidedAt: 1_763_856_000_500,
  rulesVersion: 'r-2026.11',
  cause: { kind: 'EVENT', eventId: 'e-42', eventType: 'PURCHASE', eventOccurredAt: 1_763_856_000_000 },
  changes: [
    { label: 'first_time_buyer', category: 'lifecycle', change: 'ASSIGNED', reason: 'enter', features: {} },
    { label: 'prospect', category: 'lifecycle', change: 'REMOVED', reason: 'group:lifecycle', features: {} },
    { label: 'engaged', category: 'engagement', change: 'REMOVED', reason: 'exit', features: {} },
  ],
  labels: ['first_time_buyer'],
};

describe('history entries', () => {
  it('are one short line that reads back as the decision summary', () => {
    const e = historyEntry(base);
    expect(e).not.toContain('\n');
    expect(parseHistoryEntry(e)).toEqual({
      at: 1_763_856_000_000,
      cause: 'PURCHASE e-42',
      changes: ['+first_time_buyer', '-prospect (group:lifecycle)', '-engaged'],
      rules: 'r-2026.11',
    });
    expect(e.length).toBeLessThan(120); // three changes; the JSON-object form was 152
  });

  it('name a timer as the cause of a time-based change', () => {
    const e = historyEntry({ ...base, cause: { kind: 'TIMER', eventId: null, eventType: null, eventOccurredAt: 5 }, changes: [base.changes[2]!] });
    expect(parseHistoryEntry(e)).toMatchObject({ cause: 'timer', changes: ['-engaged'] });
  });

  it('stay one line whatever an event id holds', () => {
    const e = historyEntry({ ...base, cause: { ...base.cause, eventId: 'evil\nid' } });
    expect(e).not.toContain('\n');
    expect(parseHistoryEntry(e)).toMatchObject({ cause: 'PURCHASE evil\nid' });
  });

  it('come back raw when unreadable', () => {
    expect(parseHistoryEntry('{"at":1}')).toEqual({ raw: '{"at":1}' });
    expect(parseHistoryEntry('not json')).toEqual({ raw: 'not json' });
  });
});
