/** avsc `Type.forSchema` options used for every Labelstream schema; see {@link avroTypeOptions}. */
export interface AvroTypeOptions {
  wrapUnions: 'never';
  logicalTypes: Record<string, never>;
}

/**
 * The avsc `Type.forSchema` options every Labelstream schema is parsed with, as a fresh
 * object on each call (avsc writes its type registry into the options object it is given,
 * so a shared object would make the second parse fail with "duplicate type name").
 *
 * - `logicalTypes: {}`: `timestamp-millis` stays annotated in the schemas (so registry
 *   consumers in other languages see timestamps) but decodes to a plain `number` of epoch
 *   millis here, never a `Date` — the whole pipeline does arithmetic on epoch millis.
 * - `wrapUnions: 'never'`: unions decode to the bare value (`T | null`), matching the
 *   generated types; the generator refuses schemas whose unions would be ambiguous.
 *
 * Adapters that decode our topics with another avsc-based library (for example the
 * registry client's `forSchemaOptions`) should pass these same options.
 */
export function avroTypeOptions(): AvroTypeOptions {
  return { wrapUnions: 'never', logicalTypes: {} };
}
