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

/**
 * A batch the consumer runner gave up on: the handler failed with an error no retry can
 * fix (a bug, a fenced producer, a message too large), or a retriable one outlasted the
 * retry budget. Never retriable: kafkajs must not restart the consumer on it, the process
 * exits and its orchestrator restarts it (from the last committed offset).
 */
export class BatchFailedError extends AdapterError {
  constructor(
    readonly reason: 'NOT_RETRIABLE' | 'RETRIES_EXHAUSTED',
    context: { topic: string; partition: number; attempts: number; elapsedMs: number; firstOffset?: string; lastOffset?: string },
    options: { cause: unknown },
  ) {
    const what = reason === 'NOT_RETRIABLE' ? 'failed with an error no retry can fix' : `still failed after ${context.attempts} attempts in ${context.elapsedMs} ms`;
    super('BATCH_FAILED', `batch of ${context.topic}/${context.partition} ${what}: ${describe(options.cause)}`, false, { ...context, reason }, options);
  }
}

function describe(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return String(err);
  const code = typeof e.code === 'string' && e.code !== e.name ? ` [${e.code}]` : '';
  return `${String(e.name ?? 'Error')}${code}: ${String(e.message ?? '')}`;
}

/** Node socket errors of a peer that is down, restarting or unreachable for now. */
const TRANSIENT_SYSTEM_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND']);
/** ioredis errors of a connection that is (re)connecting. */
const TRANSIENT_REDIS_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const TRANSIENT_REDIS_MESSAGES = /^(Connection is closed\.|Command aborted due to connection close|Stream isn't writeable|Command timed out|connect ETIMEDOUT|Ready check failed)/;
/** Redis replies of a server that is loading, failing over or busy: ReplyError's message starts with the code. */
const TRANSIENT_REDIS_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS) /;

/**
 * True when the error may go away by itself (an outage) and the work should be retried;
 * false for everything else, unknown errors included — a `TypeError`, an unexpected
 * rejection — so that a bug fails loudly instead of retrying forever.
 *
 * Retriable are: errors that say so (`retriable: true` — AdapterError and the services'
 * own errors, kafkajs's KafkaJSError family: connection, request timeout, leader
 * elections), kafkajs giving up after its own retries on a retriable cause, Node socket
 * errors of a peer that is down (ECONNREFUSED, ECONNRESET, …), and ioredis's errors of a
 * (re)connecting client or a loading / failing-over server. An unflagged error wrapping
 * one of those (`cause`) is judged by its cause.
 */
export function isRetriable(err: unknown, depth = 0): boolean {
  if (err instanceof AdapterError) return err.retriable;
  if (err === null || typeof err !== 'object' || depth > 5) return false;
  const e = err as { retriable?: unknown; name?: unknown; code?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
  // kafkajs's "retries exceeded" is non-retriable to kafkajs's own retrier; to us it is as
  // transient as what it retried (a broker restart outlasting the producer's retries).
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriable(e.cause ?? e.originalError, depth + 1);
  if (typeof e.retriable === 'boolean') return e.retriable;
  if (typeof e.code === 'string' && TRANSIENT_SYSTEM_CODES.has(e.code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.name === 'string' && TRANSIENT_REDIS_NAMES.has(e.name)) return true;
  if (e.name === 'ReplyError' && TRANSIENT_REDIS_REPLIES.test(message)) return true;
  if ((e.name === 'Error' || e.name === 'AbortError') && TRANSIENT_REDIS_MESSAGES.test(message)) return true;
  if (e.cause !== undefined) return isRetriable(e.cause, depth + 1);
  return false;
}
