/** Base of the Kafka/registry adapter's errors: a stable code, a retriable flag, context. */
export class AdapterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The registry does not know the schema id a message carries: the message is bad, not the system. */
export class UnknownSchemaError extends AdapterError {
  constructor(schemaId: number, options?: { cause?: unknown }) {
    super('UNKNOWN_SCHEMA', `schema id ${schemaId} is not known to the registry`, false, { schemaId }, options);
  }
}

/** The bytes are not a Confluent-framed Avro payload of a schema we can read. */
export class UndecodableError extends AdapterError {
  constructor(reason: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('UNDECODABLE', reason, false, context, options);
  }
}

/** The registry did not answer (down, timeout, 5xx): retry with backoff, never dead-letter. */
export class RegistryUnavailableError extends AdapterError {
  constructor(url: string, options?: { cause?: unknown }) {
    super('REGISTRY_UNAVAILABLE', `schema registry at ${url} is unavailable`, true, { url }, options);
  }
}

/**
 * The brokers refuse this client for a reason no retry can fix: wrong credentials, a SASL
 * mechanism they do not offer, an untrusted certificate. Raised by the start-up check;
 * the message names what failed and the variables to check, never a password.
 */
export class KafkaAccessError extends AdapterError {
  constructor(code: 'KAFKA_AUTH_FAILED' | 'KAFKA_TLS_FAILED', message: string, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, false, context, options);
  }
}

/** True when the error may go away by itself (an outage) and the work should be retried. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof AdapterError) return err.retriable;
  const e = err as { retriable?: unknown; name?: unknown } | null;
  if (e && typeof e.retriable === 'boolean') return e.retriable;
  // kafkajs marks its own errors; connection errors from ioredis and sockets are transient.
  return true;
}
