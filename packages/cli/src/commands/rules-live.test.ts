import { formatDiff, versionProblem, type DiffReport } from './rules-live';

describe('versionProblem', () => {
  const log = [{ seq: 1, version: 'v1', hash: 'h1', publishedAt: 0, note: '' }];

  it('refuses a version string published before with other rules', () => {
    expect(versionProblem({ version: 'v1', hash: 'h2' }, log)).toMatch(/version "v1" was already published \(sequence 1\) with other rules/);
  });

  it('accepts a new version, and the same rules again (a rollback)', () => {
    expect(versionProblem({ version: 'v2', hash: 'h2' }, log)).toBeUndefined();
    expect(versionProblem({ version: 'v1', hash: 'h1' }, log)).toBeUndefined();
  });
});

describe('formatDiff', () => {
  it('prints rule changes, warming features, per-label entries and exits with examples, and the sweep estimate', () => {
    const report: DiffReport = {
      valid: true,
      from: { seq: 2, version: 'a' },
      to: { version: 'b' },
      rules: {
        from: 'a',
        to: 'b',
        labelsAdded: ['loyal'],
        labelsRemoved: ['legacy'],
        labelsChanged: [],
        features: [{ name: 'clicks_14d', change: 'added', historyMs: 14 * 86_400_000, history: '2w', readBy: ['engaged'] }],
        windowsChanged: [],
        featuresRemoved: [],
        same: false,
      },
      customers: {
        customers: 10,
        changed: 3,
        unreadable: 0,
        labels: {
          legacy: { enter: 0, leave: 2, enterExamples: [], leaveExamples: ['c1', 'c2'] },
          loyal: { enter: 1, leave: 0, enterExamples: ['c3'], leaveExamples: [] },
        },
      },
      warmingUp: [{ feature: 'clicks_14d', history: '2w', fullFrom: '2026-12-21T00:00:00.000Z' }],
      sweep: { perSecond: 2000, instances: 2, estimatedMs: 2500 },
    };
    expect(formatDiff(report).split('\n')).toEqual([
      'rules a (sequence 2) -> b',
      'labels added:    loyal',
      'labels removed:  legacy (holders lose them, reason rules-changed)',
      'feature clicks_14d added: needs 2w of history, read by engaged',
      '  clicks_14d: backfilled from the input topic at the switch; if it holds less than 2w, warming up until 2026-12-21T00:00:00.000Z at the latest',
      '',
      'customers: 10 scanned, 3 would change',
      'label      enter     leave  examples',
      'legacy         0         2  -c1 -c2',
      'loyal          1         0  +c3',
      'sweep: about 3 s at 2000 customers/s x 2 evaluator(s)',
    ]);
  });
});
