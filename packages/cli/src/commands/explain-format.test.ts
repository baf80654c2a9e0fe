import { resolve } from 'node:path';
import { applyEvents, explain, type EngineEvent } from '@labelstream/engine';
import { readRulesFile } from '@labelstream/rules';
import { ago, formatExplanation, span, type ExplainAnswer } from './explain-format';

const RULES = readRulesFile(resolve(__dirname, '../../../../rules/default.yaml'));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 10, 0);

function purchase(id: string, t: number, amountMinorBase: number): EngineEvent {
  return {
    eventId: id,
    customerId: 'c-000043',
    eventType: 'PURCHASE',
    occurredAt: t,
    attrs: { amountMinor: amountMinorBase, amountMinorBase, currency: 'EUR', itemCount: 1, quantity: 1, categories: [], skus: [], channel: 'WEB' },
  };
}

/** A real engine explanation under the default rules: two large orders, asked about 2 days later. */
function answer(): ExplainAnswer {
  const step = applyEvents(null, [purchase('p1', T0, 30_000), purchase('p2', T0 + DAY, 30_000)], RULES);
  return {
    found: true,
    partition: 2,
    version: 7,
    explanation: explain(step.state, RULES, T0 + 3 * DAY),
    recentDecisions: [
      { at: T0 + DAY, cause: 'PURCHASE p2', changes: ['+high_value', '+repeat_customer'], rules: RULES.version },
      { at: T0, cause: 'PURCHASE p1', changes: ['+customer', '+first_time_buyer'], rules: RULES.version },
      { raw: 'garbled' },
    ],
  };
}

describe('formatExplanation (labelstream explain)', () => {
  const text = formatExplanation('c-000043', answer());
  const lines = text.split('\n');

  it('names the customer, the rules version and the time, with no raw JSON or undefined', () => {
    expect(lines[0]).toBe(`customer c-000043  rules ${RULES.version}, as of 2026-12-04 10:00 UTC`);
    expect(text).not.toMatch(/undefined|\{"|sourceText/);
    expect(text).not.toContain('\x1b['); // no colour unless asked
  });

  it('prints one table, held labels first, with since and why (condition and the values that decided it)', () => {
    expect(lines[3]).toBe(`Holds 3 labels: high_value, repeat_customer, customer  (decided under rules ${RULES.version})`);
    const header = lines.findIndex((l) => l.startsWith('LABEL'));
    expect(lines[header]).toMatch(/^LABEL +HELD +SINCE +WHY$/);
    // Each column starts where its header does.
    const col = (name: string) => lines[header]!.indexOf(name);
    const rows = lines.slice(header + 1, lines.indexOf('', header));
    const firstLines = rows.filter((l) => ['yes', 'no'].includes(l.slice(col('HELD'), col('SINCE')).trim()));
    expect(firstLines.map((l) => l.slice(0, col('HELD')).trim())).toEqual([
      'high_value', 'repeat_customer', 'customer', // held, in the rules' order
      'first_time_buyer', 'engaged', 'inactive', 'lead', 'loyal', 'advocate', 'dissatisfied', 'satisfied', 'neutral', 'outdoor_enthusiast',
    ]);
    const hv = rows.findIndex((l) => l.startsWith('high_value '));
    const cells = (l: string) => [l.slice(0, col('HELD')).trim(), l.slice(col('HELD'), col('SINCE')).trim(), l.slice(col('SINCE'), col('WHY')).trim(), l.slice(col('WHY'))];
    expect(cells(rows[hv]!)).toEqual(['high_value', 'yes', '2026-12-02 10:00 UTC', 'qualifies: spend_90d >= 50000  (spend_90d = 60000)']);
    expect(cells(rows[hv + 1]!)).toEqual(['value', '', '2d ago', 'leaves when spend_90d < 40000']);
    expect(cells(rows[hv + 2]!)).toEqual(['', '', '', 'minimum stay 7d']);
    const ftb = rows.findIndex((l) => l.startsWith('first_time_buyer '));
    expect(cells(rows[ftb]!)).toEqual(['first_time_buyer', 'no', '–', 'needs: orders_lifetime == 1 && orders_30d == 1  (orders_lifetime = 2, orders_30d = 2)']);
  });

  it('shows the group outcome and what takes a label away', () => {
    const rows = lines.slice(lines.findIndex((l) => /^customer +yes/.test(l)));
    expect(rows[1]).toMatch(/^lifecycle +\d+d ago +leaves when it no longer qualifies$/);
    expect(rows[2]!.trim()).toBe('group lifecycle: wins over the others');
  });

  it('shows a pending change, the next time-based check and the recent changes', () => {
    const a = answer();
    // 95 days on, the spend has left the 90-day window and the 7-day dwell is long over.
    const later = { ...a, explanation: explain(applyEvents(null, [purchase('p1', T0, 30_000), purchase('p2', T0 + DAY, 30_000)], RULES).state, RULES, T0 + 95 * DAY) };
    const t = formatExplanation('c-000043', later).split('\n');
    const hv = t.findIndex((l) => l.startsWith('high_value '));
    expect(t[hv]).toMatch(/no longer qualifies: spend_90d >= 50000 {2}\(spend_90d = 0\)$/);
    expect(t.slice(hv, hv + 4).map((l) => l.trim())).toContain('! would be removed at the next evaluation (exit)');
    const inactive = t.findIndex((l) => l.startsWith('inactive '));
    expect(t[inactive + 1]).toMatch(/! would be assigned at the next evaluation \(enter\)$/);
    expect(t.join('\n')).toMatch(/Next time-based check: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in \d+d( \d+h)?\), without any new event/);
    const text = formatExplanation('c-000043', a);
    expect(text).toContain('Recent changes (newest first)');
    expect(text).toContain('2026-12-02 10:00 UTC  +high_value +repeat_customer  caused by PURCHASE p2, rules 2026-11-23.1');
    expect(text).toContain('  garbled');
  });

  it('says which features a rules change is still warming up, and until when', () => {
    const t = formatExplanation('c-000043', { ...answer(), warmingUp: [{ feature: 'clicks_14d', until: Date.UTC(2026, 11, 20, 10) }, { feature: 'orders_lifetime', until: null }] });
    expect(t).toContain('! feature clicks_14d is warming up after a rules change: full from 2026-12-20 10:00 UTC; labels reading it decide on partial history');
    expect(t).toContain('! feature orders_lifetime is warming up after a rules change: lifetime, never whole');
    expect(formatExplanation('c-000043', answer())).not.toContain('warming up');
  });

  it('colours only when asked (the command asks on a terminal)', () => {
    const coloured = formatExplanation('c-000043', answer(), { color: true });
    expect(coloured).toContain('\x1b[32myes\x1b[0m');
    // Colour codes do not move the columns: without them the text is the plain one.
    expect(coloured.split('\x1b[').map((part, i) => (i ? part.replace(/^\d+m/, '') : part)).join('')).toBe(text);
  });

  it('says how long ago in at most two units', () => {
    expect(ago(30_000)).toBe('just now');
    expect(ago(3 * DAY + 4 * 3_600_000 + 5 * 60_000)).toBe('3d 4h');
    expect(ago(7 * DAY)).toBe('7d');
    expect(ago(90 * 60_000)).toBe('1h 30m');
    // Durations (dwell, time to the next check) keep seconds: demo rules have 30 s stays.
    expect(span(30_000)).toBe('30s');
    expect(span(7 * DAY)).toBe('7d');
  });
});
