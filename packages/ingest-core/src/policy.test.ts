import { compileIngestPolicy, DEFAULT_INGEST_POLICY, InvalidIngestPolicyError, ISO_4217_MINOR_UNITS, minorUnitExponent } from './index';

describe('compileIngestPolicy', () => {
  it('fills defaults and freezes the result', () => {
    const p = compileIngestPolicy();
    expect(p).toMatchObject({ maxMessageBytes: 1_048_576, baseCurrency: 'USD', fxRatesToBase: { USD: 1 }, deriveMissingEventId: false });
    expect(p.knownCurrencies).toEqual(DEFAULT_INGEST_POLICY.knownCurrencies);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.fxRatesToBase)).toBe(true);
  });

  it('upper-cases currency codes and adds the base rate', () => {
    const p = compileIngestPolicy({ baseCurrency: 'eur', fxRatesToBase: { usd: 0.92 }, knownCurrencies: ['eur', 'usd'] });
    expect(p.baseCurrency).toBe('EUR');
    expect(p.fxRatesToBase).toEqual({ EUR: 1, USD: 0.92 });
    expect([...p.knownCurrencies]).toEqual(['EUR', 'USD']);
  });

  it('lists every problem, naming the option', () => {
    let error: unknown;
    try {
      compileIngestPolicy({
        baseCurrency: 'XYZ',
        fxRatesToBase: { EUR: 0, GBP: Number.NaN, ABC: 1 },
        maxMessageBytes: 0,
        maxLatenessMs: 1.5,
        maxFutureSkewMs: -1,
        maxAmountMinor: 2 ** 60,
        maxItems: 1_000_000,
        customerIdPattern: /c-\d+/g,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidIngestPolicyError);
    const e = error as InvalidIngestPolicyError;
    expect(e.code).toBe('INGEST_POLICY_INVALID');
    expect(e.retriable).toBe(false);
    expect(e.issues.map((i) => i.option).sort()).toEqual(
      [
        'baseCurrency',
        'customerIdPattern',
        'fxRatesToBase.ABC',
        'fxRatesToBase.EUR',
        'fxRatesToBase.GBP',
        'maxAmountMinor',
        'maxFutureSkewMs',
        'maxItems',
        'maxLatenessMs',
        'maxMessageBytes',
      ].sort(),
    );
  });

  it('refuses a base rate other than 1 and currencies outside the ISO table', () => {
    expect(() => compileIngestPolicy({ fxRatesToBase: { USD: 1.1 } })).toThrow(/base currency rate must be 1/);
    expect(() => compileIngestPolicy({ knownCurrencies: ['USD', 'XAU'] })).toThrow(/XAU/);
  });
});

describe('ISO 4217 table', () => {
  it('has the exponents that matter for spend', () => {
    expect([minorUnitExponent('JPY'), minorUnitExponent('USD'), minorUnitExponent('EUR'), minorUnitExponent('KWD'), minorUnitExponent('BHD'), minorUnitExponent('CLF')]).toEqual([0, 2, 2, 3, 3, 4]);
    expect(minorUnitExponent('XAU')).toBeUndefined();
    expect(minorUnitExponent('toString')).toBeUndefined();
    expect(Object.keys(ISO_4217_MINOR_UNITS).length).toBeGreaterThan(150);
    for (const code of Object.keys(ISO_4217_MINOR_UNITS)) expect(code).toMatch(/^[A-Z]{3}$/);
  });
});
