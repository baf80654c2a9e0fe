import { defaultBucketMs, formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['14d', 14 * 86_400_000],
    ['2w', 14 * 86_400_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1', '1.5h', '7days', '-1d', '0s', 'lifetime', '1 h'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('uses the largest exact unit', () => {
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(21_600_000)).toBe('6h');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(14 * 86_400_000)).toBe('2w');
  });
});

describe('defaultBucketMs', () => {
  it.each([
    ['30s', '1s'],
    ['90s', '1s'],
    ['2m', '2s'],
    ['5m', '5s'],
    ['1h', '1m'],
    ['14d', '6h'],
    ['30d', '12h'],
    ['90d', '1d'],
    ['365d', '1w'],
    ['1s', '1s'],
  ])('window %s → bucket %s (window/48 rounded down to the ladder)', (w, b) => {
    expect(formatDuration(defaultBucketMs(parseDuration(w) as number))).toBe(b);
  });

  it('never exceeds window/48 when the window allows at least 1s buckets', () => {
    for (let w = 48_000; w < 400 * 86_400_000; w = Math.floor(w * 1.37)) {
      expect(defaultBucketMs(w)).toBeLessThanOrEqual(w / 48);
    }
  });
});
