/**
 * ISO 4217 minor-unit exponents (how many decimal places a currency's minor unit has),
 * embedded from the ISO 4217 list as of 2025 (so it includes XCG and ZWG) rather
 * than taken from a library or from `Intl`: `Intl.NumberFormat` reports CLDR *display*
 * digits, which differ from ISO for about twenty currencies (HUF, IDR, IQD, COP, …), and a
 * dependency would be the same 170 lines plus an update channel we do not need.
 * Codes without minor units in ISO (precious metals, XDR, XXX, XTS) are absent on purpose:
 * they are not spend.
 */
const BY_EXPONENT: ReadonlyArray<readonly [number, string]> = [
  [0, 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF ' +
    'XPF'],
  [2, 'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND ' +
    'BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU ' +
    'CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
    'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS ' +
    'KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP ' +
    'MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN ' +
    'PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE ' +
    'SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS ' +
    'UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL'],
  [3, 'BHD IQD JOD KWD LYD OMR TND'],
  [4, 'CLF UYW'],
];

/** Currency code → ISO 4217 minor-unit exponent (JPY 0, USD 2, KWD 3, CLF 4, …). */
export const ISO_4217_MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(BY_EXPONENT.flatMap(([exp, codes]) => codes.split(' ').map((c) => [c, exp] as const))),
);

/** The minor-unit exponent of an upper-case ISO 4217 code, or undefined if it is not in the table. */
export function minorUnitExponent(code: string): number | undefined {
  return Object.hasOwn(ISO_4217_MINOR_UNITS, code) ? ISO_4217_MINOR_UNITS[code] : undefined;
}
