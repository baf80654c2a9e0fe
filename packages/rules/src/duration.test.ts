import { formatDuration, parseDuration } from '@labelstream/duration';
import { defaultBucketMs } from './duration';

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
