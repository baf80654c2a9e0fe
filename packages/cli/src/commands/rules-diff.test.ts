import { formatDiff, partitionBackfill, type DiffReport, type FeatureWarmUp } from './rules-diff';

const HOUR = 3_600_000;

/** A report with one added feature (clicks_14d) and one redefined (spend_90d), `warmingUp` and `backfill` given. */
function report(backfill: DiffReport['backfill'], warmingUp: FeatureWarmUp[]): DiffReport {
  return {
    valid: true,
    from: { seq: 2, version: 'a' },
    to: { version: 'b' },
    rules: {
      from: 'a',
      to: 'b',
      labelsAdded: ['loyal'],
      labelsRemoved: ['legacy'],
      labelsChanged: [],
      features: [
        { name: 'clicks_14d', change: 'added', historyMs: 14 * 24 * HOUR, history: '2w', readBy: ['engaged'] },
        { name: 'spend_all', change: 'redefined', historyMs: null, history: 'all (lifetime)', readBy: ['big'] },
      ],
      windowsChanged: [],
      featuresRemoved: [],
      same: false,
    },
    backfill,
    customers: {
      customers: 10,
      changed: 3,
      unreadable: 0,
      labels: {
        legacy: { enter: 0, leave: 2, enterExamples: [], leaveExamples: ['c1', 'c2'] },
        loyal: { enter: 1, leave: 0, enterExamples: ['c3'], leaveExamples: [] },
      },
    },
    warmingUp,
    sweep: { perSecond: 2000, instances: 2, estimatedMs: 2500 },
  };
}

const HEAD = [
  'rules a (sequence 2) -> b',
  'labels added:    loyal',
  'labels removed:  legacy (holders lose them, reason rules-changed)',
  'feature clicks_14d added: needs 2w of history, read by engaged',
  'feature spend_all redefined: needs all (lifetime) of history, read by big',
];
const TABLE = ['label      enter     leave  examples', 'legacy         0         2  -c1 -c2', 'loyal          1         0  +c3', 'sweep: about 3 s at 2000 customers/s x 2 evaluator(s)'];

describe('formatDiff', () => {
  it('says per feature how far back the simulated backfill reached and until when it warms, on the partition that warms longest', () => {
    const text = formatDiff(
      report('simulated', [
        {
          feature: 'clicks_14d',
          history: '2w',
          fullFrom: '2026-12-21T00:00:00.000Z',
          partitions: [
            { partition: 0, reachedBack: '2026-12-01T00:00:00.000Z', whole: false, warmsUntil: '2026-12-15T00:00:00.000Z' },
            { partition: 1, reachedBack: null, whole: true, warmsUntil: null },
            { partition: 2, reachedBack: '2026-12-03T00:00:00.000Z', whole: false, warmsUntil: '2026-12-17T00:00:00.000Z' },
          ],
        },
        {
          feature: 'spend_all',
          history: 'all (lifetime)',
          fullFrom: null,
          partitions: [
            { partition: 0, reachedBack: '2026-12-01T00:00:00.000Z', whole: false, warmsUntil: null },
            { partition: 1, reachedBack: null, whole: true, warmsUntil: null },
            { partition: 2, reachedBack: '2026-12-03T00:00:00.000Z', whole: false, warmsUntil: null },
          ],
        },
      ]),
    );
    expect(text.split('\n')).toEqual([
      ...HEAD,
      '  clicks_14d: backfilled from the input topic, whose history reaches back only to 2026-12-03T00:00:00.000Z (p2 and 1 more of 3 partitions): warming up until 2026-12-17T00:00:00.000Z',
      '  spend_all: backfilled from the input topic, whose history reaches back only to 2026-12-01T00:00:00.000Z (p0 and 1 more of 3 partitions): warming up for ever (lifetime)',
      '',
      'customers: 10 scanned, 3 would change',
      ...TABLE,
    ]);
  });

  it('says a feature whose window the history covers everywhere is whole at the switch', () => {
    const whole = (partition: number) => ({ partition, reachedBack: null, whole: true, warmsUntil: null });
    const text = formatDiff(
      report('simulated', [
        { feature: 'clicks_14d', history: '2w', fullFrom: '2026-12-21T00:00:00.000Z', partitions: [whole(0), whole(1)] },
        { feature: 'spend_all', history: 'all (lifetime)', fullFrom: null, partitions: [] },
      ]),
    );
    expect(text.split('\n').slice(HEAD.length, HEAD.length + 2)).toEqual([
      '  clicks_14d: backfilled from the input topic, whose history covers its 2w on all 2 partitions: whole at the switch',
      '  spend_all: no partition has stored customers: nothing to backfill',
    ]);
  });

  it('with --no-backfill, says the features were counted empty and the figures are the most the deploy can change', () => {
    const text = formatDiff(
      report('skipped', [
        { feature: 'clicks_14d', history: '2w', fullFrom: '2026-12-21T00:00:00.000Z' },
        { feature: 'spend_all', history: 'all (lifetime)', fullFrom: null },
      ]),
    );
    expect(text.split('\n')).toEqual([
      ...HEAD,
      '  clicks_14d: counted empty here (--no-backfill); backfilled from the input topic at the switch; if it holds less than 2w, warming up until 2026-12-21T00:00:00.000Z at the latest',
      '  spend_all: counted empty here (--no-backfill); backfilled from the input topic at the switch; if the topic ever deleted events, warming up for ever (lifetime)',
      '',
      'customers: 10 scanned, 3 would change',
      '  (new and redefined features counted empty: the most the deploy can change; without --no-backfill the diff backfills them as the switch will)',
      ...TABLE,
    ]);
  });
});

describe('partitionBackfill', () => {
  it('reads the switch\'s warm-up: a listed feature warms until its date (null: for ever), an unlisted one is whole', () => {
    const since = Date.UTC(2026, 11, 1);
    const got = partitionBackfill(3, ['a', 'b', 'c'], since, [
      { feature: 'a', storageKey: 'ka', until: since + HOUR },
      { feature: 'b', storageKey: 'kb', until: null },
      { feature: 'other', storageKey: 'ko', until: since },
    ]);
    expect([...got.values()]).toEqual([
      { partition: 3, reachedBack: '2026-12-01T00:00:00.000Z', whole: false, warmsUntil: '2026-12-01T01:00:00.000Z' },
      { partition: 3, reachedBack: '2026-12-01T00:00:00.000Z', whole: false, warmsUntil: null },
      { partition: 3, reachedBack: '2026-12-01T00:00:00.000Z', whole: true, warmsUntil: null },
    ]);
    expect(partitionBackfill(0, ['a'], Number.NEGATIVE_INFINITY, []).get('a')).toEqual({ partition: 0, reachedBack: null, whole: true, warmsUntil: null });
  });
});
