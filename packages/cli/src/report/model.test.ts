import { buildReport, chooseBucket, type ReportEvent } from './model';
import { renderReportHtml } from './html';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 1);
let n = 0;
function ev(type: 'LABEL_ASSIGNED' | 'LABEL_REMOVED', customerId: string, label: string, at: number, rulesVersion = 'v1'): ReportEvent {
  return { eventId: `e${n++}`, type, customerId, label, category: label === 'engaged' ? 'behaviour' : 'value', effectiveAt: at, rulesVersion };
}
const add = (c: string, l: string, at: number, v?: string) => ev('LABEL_ASSIGNED', c, l, at, v);
const rem = (c: string, l: string, at: number, v?: string) => ev('LABEL_REMOVED', c, l, at, v);

const rules = {
  source: 'rules/test.yaml',
  version: 'v1',
  labels: [
    { name: 'high_value', category: 'value' },
    { name: 'engaged', category: 'behaviour' },
    { name: 'dormant', category: 'behaviour' },
  ],
};

describe('buildReport', () => {
  const events = [
    add('a', 'high_value', T0),
    add('b', 'high_value', T0 + HOUR),
    add('a', 'engaged', T0 + 2 * HOUR),
    rem('a', 'engaged', T0 + 5 * HOUR), // a flap: out 3h after in
    add('a', 'engaged', T0 + DAY),
    add('c', 'engaged', T0 + DAY),
    rem('b', 'high_value', T0 + 3 * DAY), // held 3 days: not a flap
    add('c', 'engaged', T0 + 3 * DAY), // a no-op (already held)
  ];
  const m = buildReport([...events, events[0]!], { now: T0 + 4 * DAY, flapWindowMs: DAY, rules, topic: 't' });

  it('rebuilds the current sets, populations and overlap', () => {
    expect(m).toMatchObject({ events: 8, duplicates: 1, noOps: 1, customers: 3, customersWithLabel: 2, bucketMs: DAY });
    const byName = Object.fromEntries(m.labels.map((l) => [l.label, l]));
    expect(byName.high_value).toMatchObject({ population: 1, entries: 2, exits: 1, flaps: 0, everAssigned: 2, inRules: true });
    expect(byName.engaged).toMatchObject({ population: 2, entries: 3, exits: 1, flaps: 1, flappingCustomers: 1 });
    expect(m.labels.map((l) => l.label)).toEqual(['high_value', 'engaged', 'dormant']);
    // high_value's one holder (a) also holds engaged; of engaged's two holders, one holds high_value
    expect(m.overlap[0]).toEqual([1, 1, 0]);
    expect(m.overlap[1]).toEqual([0.5, 1, 0]);
  });

  it('counts populations at the end of each bucket and entries/exits per bucket', () => {
    expect(m.buckets).toEqual([T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]);
    expect(m.population[0]).toEqual([2, 2, 2, 1]);
    expect(m.population[1]).toEqual([0, 2, 2, 2]);
    expect(m.entriesPerBucket[1]).toEqual([1, 2, 0, 0]);
    expect(m.exitsPerBucket[1]).toEqual([1, 0, 0, 0]);
  });

  it('finds labels that never fired, and the per-category advice', () => {
    expect(m.neverFired).toEqual(['dormant']);
    expect(m.warnings).toEqual([]);
    const many = { ...rules, labels: Array.from({ length: 10 }, (_, i) => ({ name: `seg_${i}`, category: 'custom' })) };
    const w = buildReport(events, { now: T0 + 4 * DAY, flapWindowMs: DAY, rules: many, topic: 't' }).warnings;
    expect(w.some((x) => x.startsWith("Category 'custom' has 10 labels: the governance advice is fewer than 10"))).toBe(true);
    expect(w.some((x) => x.includes('Held by customers but not in rules/test.yaml: engaged, high_value'))).toBe(true);
  });

  it('flags labels almost everyone holds, flapping, and several rules versions', () => {
    const evs: ReportEvent[] = [];
    for (let i = 0; i < 12; i++) {
      evs.push(add(`c${i}`, 'high_value', T0 + i * HOUR, i < 6 ? 'v1' : 'v2'));
      if (i < 6) evs.push(add(`c${i}`, 'engaged', T0), rem(`c${i}`, 'engaged', T0 + HOUR));
    }
    const r = buildReport(evs, { now: T0 + DAY, flapWindowMs: 2 * HOUR, topic: 't' });
    expect(r.almostEveryone).toEqual(['high_value']);
    expect(r.rules).toBeNull();
    expect(r.rulesVersions.map((v) => [v.version, v.events])).toEqual([['v1', 18], ['v2', 6]]);
    expect(r.warnings).toEqual([
      '2 rules versions decided these events: populations may jump where the rules changed.',
      "'engaged' flaps: 6 of its 6 exits came within 2h of the entry. Hysteresis (a lower exit threshold) or a minimum dwell would steady it.",
    ]);
  });

  it('keeps events before --since in the sets but out of the entry counts', () => {
    const r = buildReport(events, { now: T0 + 4 * DAY, since: T0 + 2 * DAY, flapWindowMs: DAY, topic: 't' });
    const hv = r.labels.find((l) => l.label === 'high_value')!;
    expect(hv).toMatchObject({ population: 1, entries: 0, exits: 1 });
    const series = r.population[r.labels.indexOf(hv)]!;
    expect(r.bucketMs).toBe(HOUR); // two days: hourly points
    expect([series[0], series[series.length - 1]]).toEqual([2, 1]);
  });

  it('handles no events at all', () => {
    const r = buildReport([], { now: T0, flapWindowMs: DAY, rules, topic: 't' });
    expect(r).toMatchObject({ events: 0, customers: 0, neverFired: ['high_value', 'engaged', 'dormant'] });
    expect(renderReportHtml(r)).toContain('No label is held by anyone now.');
  });

  it('picks a day per bucket for long ranges and finer steps for short ones', () => {
    expect(chooseBucket(30 * DAY)).toBe(DAY);
    expect(chooseBucket(200 * DAY)).toBe(7 * DAY);
    expect(chooseBucket(10 * 60_000)).toBe(60_000);
    expect(chooseBucket(6 * HOUR)).toBe(5 * 60_000);
  });
});

describe('renderReportHtml', () => {
  const m = buildReport([add('a', 'high_value', T0), add('b', 'engaged', T0 + HOUR), add('a', 'engaged', T0 + 2 * HOUR)], { now: T0 + 3 * DAY, flapWindowMs: DAY, rules, topic: 'crm.label-events.v1' });
  const html = renderReportHtml(m);

  it('is one self-contained page: no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('carries the figures as data attributes on the charts and tables', () => {
    expect(html).toContain('data-chart="population" data-series="3" data-points="3"');
    expect(html).toMatch(/<path d="M[^"]+" class="line" stroke="#[0-9a-f]{6}" data-label="engaged" data-last="2" data-max="2">/);
    expect(html).toContain('data-chart="entries-exits" data-entries="3" data-exits="0"');
    expect(html).toContain('data-a="high_value" data-b="engaged" data-share="1.0000"');
    expect(html).toContain('Never fired: dormant.');
  });

  it('escapes what comes from the events', () => {
    const x = buildReport([add('a', '<b>x</b>', T0)], { now: T0 + DAY, flapWindowMs: DAY, topic: '"t"' });
    const page = renderReportHtml(x);
    expect(page).not.toContain('<b>x</b>');
    expect(page).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});
