import { convertMinorUnits, divideHalfEven, toDecimal } from './money';

describe('money', () => {
  it('reads a rate in its shortest decimal form', () => {
    expect(toDecimal(1.08)).toEqual({ digits: 108n, scale: 2 });
    expect(toDecimal(6.7e-7)).toEqual({ digits: 67n, scale: 8 });
    expect(toDecimal(150)).toEqual({ digits: 150n, scale: 0 });
    expect(toDecimal(1e21)).toEqual({ digits: 10n ** 21n, scale: 0 });
    expect(() => toDecimal(-1)).toThrow(RangeError);
    expect(() => toDecimal(Infinity)).toThrow(RangeError);
  });

  it('rounds half to even', () => {
    expect([5n, 15n, 25n, 35n].map((n) => divideHalfEven(n, 10n))).toEqual([0n, 2n, 2n, 4n]);
    expect(divideHalfEven(14n, 10n)).toBe(1n);
    expect(divideHalfEven(16n, 10n)).toBe(2n);
  });

  it('rescales between minor-unit exponents exactly', () => {
    expect(convertMinorUnits(10_000, 0, 0.0067, 2)).toBe(6_700n); // JPY → USD
    expect(convertMinorUnits(2_500, 2, 150, 0)).toBe(3_750n); // USD → JPY
    expect(convertMinorUnits(1_000, 3, 3.25, 2)).toBe(325n); // KWD → USD
    expect(convertMinorUnits(1_005, 3, 1, 2)).toBe(100n); // 1.005 → 1.00 (half to even)
    expect(convertMinorUnits(1_015, 3, 1, 2)).toBe(102n); // 1.015 → 1.02
    // Binary floating point gets this one wrong: 1.15 * 100 = 114.99999999999999.
    expect(convertMinorUnits(100, 2, 1.15, 2)).toBe(115n);
  });
});
