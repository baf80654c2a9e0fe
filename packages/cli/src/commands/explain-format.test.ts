import { resolve } from 'node:path';
import { applyEvents, explain, type EngineEvent } from '@labelstream/engine';
import { readRulesFile } from '@labelstream/rules';
import { ago, formatExplanation, type ExplainAnswer } from './explain-format';

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

  it('lists the held labels first, each with since and why', () => {
    const heldAt = lines.indexOf('Holds 3 labels');
    const notHeldAt = lines.findIndex((l) => l.startsWith('Does not hold ('));
    expect(heldAt).toBeGreaterThan(0);
    expect(notHeldAt).toBeGreaterThan(heldAt);
    const held = lines.slice(heldAt, notHeldAt).filter((l) => l.startsWith('● ')).map((l) => l.split(/\s+/)[1]);
    expect(held.sort()).toEqual(['customer', 'high_value', 'repeat_customer']);
    const hv = lines.findIndex((l) => l.startsWith('● high_value'));
    expect(lines[hv]).toBe(`● high_value  [value]  since 2026-12-02 10:00 UTC (2d ago)  rules ${RULES.version}`);
    expect(lines[hv + 1]).toMatch(/^ {4}what {4}Spent at least 500\.00/);
    expect(lines[hv + 2]).toBe('    entered spend_90d >= 50000  → true');
    expect(lines[hv + 3]).toBe('    leaves  spend_90d < 40000  → false');
    expect(lines[hv + 4]).toBe('    reads   spend_90d = 60000');
    expect(lines[hv + 5]).toBe('    dwell   minimum stay 7d');
  });

  it('shows the group outcome, the features a label reads and what a not-held label needs', () => {
    const customer = lines.findIndex((l) => l.startsWith('● customer'));
    const block = lines.slice(customer, lines.indexOf('', customer)).join('\n');
    expect(block).toContain('group   lifecycle: this label wins the group');
    expect(block).toContain('reads   orders_lifetime = 2');
    const ftb = lines.findIndex((l) => l.startsWith('○ first_time_buyer'));
    expect(lines.slice(ftb, ftb + 4).join('\n')).toContain('enters  orders_lifetime == 1 && orders_30d == 1  → false');
    expect(lines.slice(ftb, ftb + 5).join('\n')).toContain('reads   orders_lifetime = 2, orders_30d = 2');
    const loyal = lines.findIndex((l) => l.startsWith('○ loyal'));
    expect(lines.slice(loyal, lines.indexOf('', loyal)).join('\n')).toContain('leaves  orders_365d < 3  → true');
  });

  it('shows a pending change, dwell, the next time-based check and the recent changes', () => {
    const a = answer();
    // 95 days on, the spend has left the 90-day window and the 7-day dwell is long over.
    const later = { ...a, explanation: explain(applyEvents(null, [purchase('p1', T0, 30_000), purchase('p2', T0 + DAY, 30_000)], RULES).state, RULES, T0 + 95 * DAY) };
    const t = formatExplanation('c-000043', later);
    expect(t).toContain('! would be removed at the next evaluation (exit)');
    expect(t).toMatch(/Next time-based check: \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(t).toContain('Recent changes (newest first)');
    expect(t).toContain('2026-12-02 10:00 UTC  +high_value +repeat_customer  caused by PURCHASE p2, rules 2026-11-23.1');
    expect(t).toContain('  garbled');
  });

  it('says which features a rules change is still warming up, and until when', () => {
    const t = formatExplanation('c-000043', { ...answer(), warmingUp: [{ feature: 'clicks_14d', until: Date.UTC(2026, 11, 20, 10) }, { feature: 'orders_lifetime', until: null }] });
    expect(t).toContain('! feature clicks_14d is warming up after a rules change: full from 2026-12-20 10:00 UTC; labels reading it decide on partial history');
    expect(t).toContain('! feature orders_lifetime is warming up after a rules change: lifetime, never whole');
    expect(formatExplanation('c-000043', answer())).not.toContain('warming up');
  });

  it('colours only when asked (the command asks on a terminal)', () => {
    expect(formatExplanation('c-000043', answer(), { color: true })).toContain('\x1b[32m●\x1b[0m');
  });

  it('says how long ago in at most two units', () => {
    expect(ago(30_000)).toBe('just now');
    expect(ago(3 * DAY + 4 * 3_600_000 + 5 * 60_000)).toBe('3d 4h');
    expect(ago(7 * DAY)).toBe('7d');
    expect(ago(90 * 60_000)).toBe('1h 30m');
  });
});
