import type { LabelEvent } from '@labelstream/contracts';
import { formatLabelEvent } from './watch';

const base: LabelEvent = {
  eventId: 'e-1',
  type: 'LABEL_ASSIGNED',
  customerId: 'c-000043',
  label: 'high_value',
  category: 'value',
  effectiveAt: Date.UTC(2026, 11, 6, 21, 4, 5),
  publishedAt: Date.UTC(2026, 11, 6, 21, 4, 5, 40),
  rulesVersion: '2026-11-23.1',
  reason: 'enter',
  features: { spend_90d: 60000, avg: 12.345, channel: 'WEB' },
  causeEventId: 'p-2',
  decisionId: '1-7',
  cause: 'EVENT',
};

describe('labelstream watch (printed lines)', () => {
  it('prints one line per change: time, customer, +label, category and the deciding values', () => {
    expect(formatLabelEvent(base, false)).toBe('21:04:05 c-000043   +high_value [value] spend_90d=60000 avg=12.35 channel="WEB"');
  });

  it('marks a removal with − and a time-based change (no causing event)', () => {
    expect(formatLabelEvent({ ...base, type: 'LABEL_REMOVED', causeEventId: null, features: { spend_90d: 0 } }, false)).toBe('21:04:05 c-000043   −high_value [value] spend_90d=0 ⏱ time-based');
  });

  it('colours on request only', () => {
    expect(formatLabelEvent(base, true)).toContain('\x1b[32m+high_value\x1b[0m');
    expect(formatLabelEvent(base, false)).not.toContain('\x1b[');
  });
});
