/**
 * A JSON value, as found inside an Avro schema document.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One field of an {@link AvroRecordSchema}. */
export interface AvroFieldSchema {
  readonly name: string;
  readonly type: JsonValue;
  readonly doc?: string;
  readonly default?: JsonValue;
  readonly [attribute: string]: JsonValue | undefined;
}

/**
 * The JSON form of an Avro record schema, as read from `schemas/*.avsc`.
 *
 * Deliberately minimal (avsc does not export its schema types): enough to read names and
 * fields, register the schema with a registry (`JSON.stringify`) or hand it to avsc.
 */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly aliases?: readonly string[];
  readonly fields: readonly AvroFieldSchema[];
  /** Any other attribute Avro allows (custom properties are legal in schemas). */
  readonly [attribute: string]: unknown;
}
