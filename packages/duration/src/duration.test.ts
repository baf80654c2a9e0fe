import fc from 'fast-check';
import { DURATION_UNITS, durationOrThrow, formatDuration, parseDuration } from './index';

describe('parseDuration: the one duration grammar', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['0ms', 0],
    ['0s', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['1.5m', 90_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['14d', 1_209_600_000],
    ['2w', 1_209_600_000],
    ['.5s', 500],
    ['1.0005s', 1_001], // rounded to whole milliseconds
    ['  90s ', 90_000], // surrounding whitespace, as in an env file
  ])('%j = %d ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each([
    ['a bare non-zero number (ms to one reader, seconds to another)', '30'],
    ['a bare number with a fraction', '1.5'],
    ['a negative duration', '-1s'],
    ['a sign', '+1s'],
    ['a space before the unit', '30 s'],
    ['a long unit name', '2 days'],
    ['a long unit name without space', '2days'],
    ['an upper-case unit', '30S'],
    ['years (not a unit here: they have no fixed length)', '1y'],
    ['two parts', '1h30m'],
    ['an exponent', '1e3ms'],
    ['a trailing dot', '1.s'],
    ['words', 'lifetime'],
    ['nothing', ''],
    ['too large to be exact', '99999999999999999999w'],
  ])('refuses %s (%j)', (_what, text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('reads every unit', () => {
    expect(DURATION_UNITS.map((u) => parseDuration(`1${u}`))).toEqual([1, 1_000, 60_000, 3_600_000, 86_400_000, 604_800_000]);
  });

  it('formatDuration and parseDuration round-trip every whole number of milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (n) => {
        expect(parseDuration(formatDuration(n))).toBe(n);
      }),
    );
  });

  it('formatDuration picks the largest exact unit', () => {
    expect([0, 1_500, 90_000, 6 * 3_600_000, 90 * 86_400_000, 1_209_600_000].map(formatDuration)).toEqual(['0', '1500ms', '90s', '6h', '90d', '2w']);
  });
});

describe('durationOrThrow', () => {
  it('returns the milliseconds', () => {
    expect(durationOrThrow('90s', '--lead')).toBe(90_000);
  });

  it('names the flag and the grammar when the text is not a duration', () => {
    expect(() => durationOrThrow('90', '--lead')).toThrow(/^--lead: expected a number and a unit .*; got "90"$/);
  });

  it('refuses values under the minimum', () => {
    expect(() => durationOrThrow('0', 'EVALUATOR_TIMER_POLL', 1)).toThrow('EVALUATOR_TIMER_POLL: must be at least 1ms; got "0"');
  });
});
