/** Confluent wire format: magic byte 0, then a 4-byte big-endian schema id, then the Avro body. */
const CONFLUENT_MAGIC = 0;
const CONFLUENT_HEADER_BYTES = 5;

/**
 * True when the value starts like a Confluent-framed Avro payload (magic byte 0 followed
 * by a 4-byte schema id). JSON can never start with a NUL byte, so the two formats do not
 * overlap; whether the id is known is the registry adapter's question.
 */
export function isConfluentFramed(value: Buffer): boolean {
  return value.length >= CONFLUENT_HEADER_BYTES && value[0] === CONFLUENT_MAGIC;
}

/** The schema id of a Confluent-framed value, or null when the value is not framed. */
export function readConfluentSchemaId(value: Buffer): number | null {
  return isConfluentFramed(value) ? value.readInt32BE(1) : null;
}
