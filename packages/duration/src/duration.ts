import ms from 'ms';

/** The units a duration may carry, from milliseconds to weeks (`ms`'s short names). */
export const DURATION_UNITS = ['ms', 's', 'm', 'h', 'd', 'w'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

/** The grammar in words, for error messages and help texts. */
export const DURATION_GRAMMAR = 'a number and a unit (ms, s, m, h, d, w), e.g. 500ms, 30s, 1.5m, 2h, 7d, 1w; or 0';

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * What the grammar admits: a non-negative decimal number immediately followed by one of
 * {@link DURATION_UNITS}, or a bare `0` (zero in every unit). A bare non-zero number is
 * refused everywhere: `30` is 30 ms to one reader and 30 s to another. A setting whose
 * name states its unit (`*_MS`, `--timeout-ms`) takes a plain integer instead, not a
 * duration. No spaces, no signs, no long names (`2 days`), no exponents.
 */
const GRAMMAR = /^(?:0|(?:\d+(?:\.\d+)?|\.\d+)(?:ms|s|m|h|d|w))$/;

/**
 * Parses a duration into whole milliseconds (rounded), or `undefined` when `text` is not
 * in the grammar (see {@link DURATION_GRAMMAR}) or too large to be exact. Surrounding
 * whitespace is ignored. The number itself is read by `ms`, the parser most of the npm
 * ecosystem uses; this function only narrows what `ms` would accept.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!GRAMMAR.test(t)) return undefined;
  const value = t === '0' ? 0 : ms(t as ms.StringValue);
  if (!Number.isFinite(value)) return undefined;
  const rounded = Math.round(value);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/**
 * Parses a duration or throws an `Error` naming `what` (a flag, a variable) and the
 * grammar; `min` (default 0) is the smallest accepted value in milliseconds.
 */
export function durationOrThrow(text: string, what: string, min = 0): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`${what}: expected ${DURATION_GRAMMAR}; got ${JSON.stringify(text)}`);
  if (value < min) throw new Error(`${what}: must be at least ${formatDuration(min)}; got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Formats milliseconds with the largest unit that divides it exactly (`90d`, `6h`,
 * `1500ms`), so `parseDuration(formatDuration(x)) === x` for every whole `x ≥ 0`.
 * (`ms`'s own formatter rounds, `1.5h` → `2h`, so it is not used here.)
 */
export function formatDuration(milliseconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (milliseconds >= UNIT_MS[unit] && milliseconds % UNIT_MS[unit] === 0) return `${milliseconds / UNIT_MS[unit]}${unit}`;
  }
  return milliseconds === 0 ? '0' : `${milliseconds}ms`;
}
