/**
 * @labelstream/duration — the one duration grammar of Labelstream: environment settings,
 * rules files, CLI flags, the fault run and the benchmark all read durations with it.
 *
 * @example
 * import { parseDuration, formatDuration } from '@labelstream/duration';
 * parseDuration('1.5m'); // 90000
 * parseDuration('30');   // undefined: say the unit (or name it, as in *_MS settings)
 * formatDuration(90 * 86_400_000); // '90d'
 *
 * @packageDocumentation
 */
export { DURATION_GRAMMAR, DURATION_UNITS, durationOrThrow, formatDuration, parseDuration } from './duration';
export type { DurationUnit } from './duration';
