import { parseIsoDateTime } from './timestamps';

describe('parseIsoDateTime', () => {
  it.each([
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01t12:00z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.5Z', Date.UTC(2024, 4, 1, 12, 0, 0, 500)],
    ['2024-05-01T12:00:00,250Z', Date.UTC(2024, 4, 1, 12, 0, 0, 250)],
    ['2024-05-01T12:00:00.123999999Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    ['2024-05-01T14:00:00+02:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T07:30:00-0430', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T13:00:00+01', Date.UTC(2024, 4, 1, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['0050-01-01T00:00:00Z', -60589296000000],
  ])('%s', (text, expected) => {
    expect(parseIsoDateTime(text)).toBe(expected);
  });

  it.each([
    '2024-05-01T12:00:00', // no zone
    '2024-05-01',
    '2024-05-01 12:00:00Z',
    '2023-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2024-05-01T12:00:60Z',
    '2024-05-01T12:00:00+24:00',
    '2024-05-01T12:00:00.Z',
    '+2024-05-01T12:00:00Z',
    ' 2024-05-01T12:00:00Z',
    'May 1, 2024',
  ])('rejects %j', (text) => {
    expect(parseIsoDateTime(text)).toBeNull();
  });

  it('agrees with Date.parse on valid dates across the calendar', () => {
    for (let y = 1968; y <= 2104; y += 4) {
      // 2100 is not a leap year: Date.parse would roll 2100-02-29 over to 1 March.
      for (const [m, d] of y === 2100 ? ([[1, 1], [3, 1]] as const) : ([[1, 1], [2, 29], [3, 1], [12, 31]] as const)) {
        const text = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T23:59:59.999Z`;
        expect(parseIsoDateTime(text)).toBe(Date.parse(text));
      }
    }
  });
});
