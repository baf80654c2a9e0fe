import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_TOPICS } from '@labelstream/contracts';
import { DEFAULT_BACKFILL_MAX_CUSTOMERS } from '@labelstream/engine';
import { DEFAULT_HISTORY_CAP } from '@labelstream/redis-state';
import { ConfigError } from './errors';
import { commonEnv, envDuration, envInt, envOptional, envString } from './common';

/** Connection settings for kafkajs, already in the shape the Kafka adapter takes. */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs: number;
  /** Codec of produced batches (`KAFKA_COMPRESSION`); every codec is read regardless. */
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  ssl?: { ca?: string[] } | true;
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
}

export interface RegistrySettings {
  url: string;
  auth?: { username: string; password: string };
}

export interface TopicNames {
  customerEvents: string;
  dlq: string;
  decisions: string;
  labelEvents: string;
  customerLabels: string;
}

/** What every service is configured with. */
export interface CommonConfig {
  service: string;
  kafka: KafkaSettings;
  registry: RegistrySettings;
  log: { level: string; pretty: boolean };
  http: { host: string; port: number };
  /** Bearer token for admin endpoints; admin endpoints are off when unset. */
  adminToken?: string;
  shutdownTimeoutMs: number;
  /**
   * Bounds on retrying one batch through retriable failures (outages): handler calls and time
   * since the first failure. Past either the service exits to be restarted.
   */
  consumerRetry: { maxAttempts: number; budgetMs: number };
  /** Consumer group session timeout: how long a crashed member's partitions wait for a new owner. */
  consumerSessionTimeoutMs: number;
  /** Bounds on decoding one message (Avro and JSON nesting, Avro array/map items), checked before allocating. */
  decodeLimits: { maxDepth: number; maxItems: number };
  topics: TopicNames;
  topicDefaults: { partitions: number; replicationFactor: number };
}

export type Env = Record<string, string | undefined>;

/** Parses `env` against `shape`, throwing one ConfigError that names every bad variable. */
export function parseEnv<S extends z.ZodRawShape>(shape: S, env: Env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
  );
}

function readCa(file: string | undefined, variable: string): string[] | undefined {
  if (!file) return undefined;
  try {
    return [readFileSync(file, 'utf8')];
  } catch (e) {
    throw new ConfigError([{ variable, message: `cannot read ${file}: ${(e as Error).message}` }]);
  }
}

/**
 * The service's own Kafka credentials: `<SERVICE>_KAFKA_SASL_USERNAME` and
 * `<SERVICE>_KAFKA_SASL_PASSWORD` (INGEST_, EVALUATOR_, PUBLISHER_), when set, stand for
 * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. One environment file can then hold every
 * service's user, so that Kafka's ACLs can tell the services apart. Reads those two
 * variables only (the deployment tests watch which variables a loader reads).
 */
function serviceKafkaCredentials(service: string, env: Env): { username?: string; password?: string } {
  const prefix = service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const username = env[`${prefix}_KAFKA_SASL_USERNAME`];
  const password = env[`${prefix}_KAFKA_SASL_PASSWORD`];
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** Builds the common part of every service's configuration. */
export function loadCommon(service: string, defaultPort: number, env: Env): CommonConfig {
  const e = parseEnv({ ...commonEnv, HTTP_PORT: envInt(defaultPort, 0, 65535) }, env);
  const own = serviceKafkaCredentials(service, env);
  const username = own.username ?? e.KAFKA_SASL_USERNAME;
  const password = own.password ?? e.KAFKA_SASL_PASSWORD;
  const issues: Array<{ variable: string; message: string }> = [];
  let sasl: KafkaSettings['sasl'];
  if (e.KAFKA_SASL_MECHANISM) {
    if (!username) issues.push({ variable: 'KAFKA_SASL_USERNAME', message: 'is required when KAFKA_SASL_MECHANISM is set' });
    if (!password) issues.push({ variable: 'KAFKA_SASL_PASSWORD', message: 'is required when KAFKA_SASL_MECHANISM is set' });
    sasl = { mechanism: e.KAFKA_SASL_MECHANISM, username: username ?? '', password: password ?? '' };
  }
  if (Boolean(e.SCHEMA_REGISTRY_USERNAME) !== Boolean(e.SCHEMA_REGISTRY_PASSWORD)) {
    issues.push({ variable: 'SCHEMA_REGISTRY_PASSWORD', message: 'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together' });
  }
  if (issues.length) throw new ConfigError(issues);
  const ca = readCa(e.KAFKA_TLS_CA_FILE, 'KAFKA_TLS_CA_FILE');
  return {
    service,
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID ?? `labelstream-${service}`,
      connectionTimeoutMs: e.KAFKA_CONNECTION_TIMEOUT_MS,
      compression: e.KAFKA_COMPRESSION,
      ...(e.KAFKA_TLS ? { ssl: ca ? { ca } : true } : {}),
      ...(sasl ? { sasl } : {}),
    },
    registry: {
      url: e.SCHEMA_REGISTRY_URL,
      ...(e.SCHEMA_REGISTRY_USERNAME && e.SCHEMA_REGISTRY_PASSWORD
        ? { auth: { username: e.SCHEMA_REGISTRY_USERNAME, password: e.SCHEMA_REGISTRY_PASSWORD } }
        : {}),
    },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    ...(e.ADMIN_TOKEN ? { adminToken: e.ADMIN_TOKEN } : {}),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
    consumerRetry: { maxAttempts: e.CONSUMER_MAX_RETRIES, budgetMs: e.CONSUMER_RETRY_BUDGET },
    consumerSessionTimeoutMs: e.CONSUMER_SESSION_TIMEOUT,
    decodeLimits: { maxDepth: e.DECODE_MAX_DEPTH, maxItems: e.DECODE_MAX_ITEMS },
    topics: {
      customerEvents: e.TOPIC_CUSTOMER_EVENTS,
      dlq: e.TOPIC_DLQ,
      decisions: e.TOPIC_DECISIONS,
      labelEvents: e.TOPIC_LABEL_EVENTS,
      customerLabels: e.TOPIC_CUSTOMER_LABELS,
    },
    topicDefaults: { partitions: e.TOPIC_PARTITIONS, replicationFactor: e.TOPIC_REPLICATION_FACTOR },
  };
}

/** Ingest: raw topics in, canonical events and DLQ out. */
export interface IngestConfig extends CommonConfig {
  groupId: string;
  rawTopics: { purchases: string; emailClicks: string; supportTickets: string };
  /**
   * The one size setting (RAW_MAX_RECORD_BYTES): the largest record a raw topic accepts.
   * Raw topics ingest creates get it as `max.message.bytes`, the DLQ that plus room for its
   * headers, the consumer's fetch size twice it; `maxMessageBytes` may not exceed it.
   */
  rawMaxRecordBytes: number;
  /** Largest raw value ingest decodes (INGEST_MAX_MESSAGE_BYTES); larger ones are OVERSIZE rejects. */
  maxMessageBytes: number;
  maxLatenessMs: number;
  maxFutureSkewMs: number;
  baseCurrency: string;
  /** Multiplier from one major unit of a currency to one major unit of the base currency. */
  fxRatesToBase: Record<string, number>;
  customerIdPattern: RegExp;
  /** HMAC key for event ids that carry personal data (INGEST_EVENT_ID_HASH_KEY); unset: plain SHA-256. */
  eventIdHashKey?: string;
}

/** Demo rate table (base EUR). Real deployments pass INGEST_FX_RATES. */
export const DEFAULT_FX_RATES_TO_EUR: Record<string, number> = {
  EUR: 1, USD: 0.92, GBP: 1.16, CHF: 1.05, SEK: 0.087, NOK: 0.085, DKK: 0.134, PLN: 0.23, JPY: 0.0061, CAD: 0.67, AUD: 0.6,
};

export function loadIngestConfig(env: Env): IngestConfig {
  const common = loadCommon('ingest', 9464, env);
  const e = parseEnv(
    {
      INGEST_GROUP_ID: envString('labelstream-ingest'),
      TOPIC_RAW_PURCHASES: envString(DEFAULT_TOPICS.purchases),
      TOPIC_RAW_EMAIL_CLICKS: envString(DEFAULT_TOPICS.emailClicks),
      TOPIC_RAW_SUPPORT_TICKETS: envString(DEFAULT_TOPICS.supportTickets),
      RAW_MAX_RECORD_BYTES: envInt(2 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
      INGEST_MAX_MESSAGE_BYTES: envInt(1_000_000, 64, 64 * 1024 * 1024),
      INGEST_MAX_LATENESS: envDuration('7d'),
      INGEST_MAX_FUTURE_SKEW: envDuration(`${DEFAULT_MAX_FUTURE_SKEW_MS}ms`),
      INGEST_BASE_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR').default('EUR'),
      INGEST_FX_RATES: envOptional,
      INGEST_CUSTOMER_ID_PATTERN: envString('^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
      INGEST_EVENT_ID_HASH_KEY: envOptional.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    },
    env,
  );
  let fx = DEFAULT_FX_RATES_TO_EUR;
  if (e.INGEST_FX_RATES) {
    try {
      const parsed: unknown = JSON.parse(e.INGEST_FX_RATES);
      const rates = z.record(z.string().regex(/^[A-Z]{3}$/), z.number().positive()).parse(parsed);
      fx = rates;
    } catch (err) {
      throw new ConfigError([{ variable: 'INGEST_FX_RATES', message: `must be a JSON object like {"USD":0.92}: ${(err as Error).message}` }]);
    }
  }
  if (fx[e.INGEST_BASE_CURRENCY] !== 1) {
    throw new ConfigError([{ variable: 'INGEST_FX_RATES', message: `must map the base currency ${e.INGEST_BASE_CURRENCY} to 1` }]);
  }
  if (e.INGEST_MAX_MESSAGE_BYTES > e.RAW_MAX_RECORD_BYTES) {
    throw new ConfigError([
      { variable: 'INGEST_MAX_MESSAGE_BYTES', message: `${e.INGEST_MAX_MESSAGE_BYTES} exceeds RAW_MAX_RECORD_BYTES (${e.RAW_MAX_RECORD_BYTES}), the largest record a raw topic accepts` },
    ]);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(e.INGEST_CUSTOMER_ID_PATTERN);
  } catch (err) {
    throw new ConfigError([{ variable: 'INGEST_CUSTOMER_ID_PATTERN', message: (err as Error).message }]);
  }
  return {
    ...common,
    groupId: e.INGEST_GROUP_ID,
    rawTopics: { purchases: e.TOPIC_RAW_PURCHASES, emailClicks: e.TOPIC_RAW_EMAIL_CLICKS, supportTickets: e.TOPIC_RAW_SUPPORT_TICKETS },
    rawMaxRecordBytes: e.RAW_MAX_RECORD_BYTES,
    maxMessageBytes: e.INGEST_MAX_MESSAGE_BYTES,
    maxLatenessMs: e.INGEST_MAX_LATENESS,
    maxFutureSkewMs: e.INGEST_MAX_FUTURE_SKEW,
    baseCurrency: e.INGEST_BASE_CURRENCY,
    fxRatesToBase: fx,
    customerIdPattern: pattern,
    ...(e.INGEST_EVENT_ID_HASH_KEY ? { eventIdHashKey: e.INGEST_EVENT_ID_HASH_KEY } : {}),
  };
}

/** Evaluator: canonical events in, decisions out, state in Redis. */
export interface EvaluatorConfig extends CommonConfig {
  groupId: string;
  rulesFile: string;
  /**
   * url: one server (redis://, rediss://) or a Redis Cluster (redis+cluster://host:port[,host:port…]);
   * waitReplicas: replicas that must acknowledge each commit (WAIT) before its decisions are
   * published and its offsets committed (0 = asynchronous replication, Redis's default).
   */
  redis: { url: string; keyPrefix: string; tlsCa?: string[]; waitReplicas: number; waitTimeoutMs: number };
  timerPollMs: number;
  /** Most events of one partition applied per handler call: one Redis commit, then an offset commit. */
  maxBatchEvents: number;
  /** Recent decisions kept per customer in Redis for explanations (0 = none). */
  historyCap: number;
  /** Decoded customer states kept in memory across batches, in customers (0 = none; Redis stays the truth). */
  stateCacheCustomers: number;
  /** A label left within this long of entering it counts as a flap (labelstream_label_flaps_total). */
  flapWindowMs: number;
  /** How often the rules channel (`labelstream rules deploy`) is read, ms. */
  rulesPollMs: number;
  /** Customers per second this instance re-evaluates after a rules switch, all its partitions together. */
  sweepPerSecond: number;
  /** Customers whose backfill folds one pass holds in memory (a rules switch that adds or redefines a feature); more take more passes over the history. */
  backfillMaxCustomers: number;
  /** INGEST_MAX_FUTURE_SKEW, ingest's: how far an event's time may be ahead of its canonical record's time (the backfill reads that much more history). */
  maxFutureSkewMs: number;
}

export function loadEvaluatorConfig(env: Env): EvaluatorConfig {
  const common = loadCommon('evaluator', 9465, env);
  const e = parseEnv(
    {
      EVALUATOR_GROUP_ID: envString('labelstream-evaluator'),
      RULES_FILE: envString('rules/default.yaml'),
      REDIS_URL: z
        .string({ error: 'is required (e.g. redis://127.0.0.1:6379, rediss:// for TLS, redis+cluster://host:port,host:port for a Redis Cluster)' })
        .regex(/^rediss?(\+cluster)?:\/\//, 'must start with redis://, rediss://, redis+cluster:// or rediss+cluster://'),
      REDIS_WAIT_REPLICAS: envInt(0, 0, 16),
      REDIS_WAIT_TIMEOUT: envDuration('2s'),
      REDIS_KEY_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'lower-case letters, digits, _ and - only').default('lbl'),
      REDIS_TLS_CA_FILE: envOptional,
      EVALUATOR_TIMER_POLL: envDuration('200ms'),
      EVALUATOR_MAX_BATCH_EVENTS: envInt(2000, 1, 100_000),
      EVALUATOR_HISTORY_CAP: envInt(DEFAULT_HISTORY_CAP, 0, 50),
      EVALUATOR_STATE_CACHE: envInt(200_000, 0, 50_000_000),
      LABEL_FLAP_WINDOW: envDuration('24h'),
      EVALUATOR_RULES_POLL: envDuration('1s'),
      EVALUATOR_SWEEP_RATE: envInt(2000, 1, 1_000_000),
      EVALUATOR_BACKFILL_MAX_CUSTOMERS: envInt(DEFAULT_BACKFILL_MAX_CUSTOMERS, 1, 50_000_000),
      // Ingest's setting: how far ahead of its record's time an event's time may be (the backfill allows for it).
      INGEST_MAX_FUTURE_SKEW: envDuration(`${DEFAULT_MAX_FUTURE_SKEW_MS}ms`),
    },
    env,
  );
  const tlsCa = readCa(e.REDIS_TLS_CA_FILE, 'REDIS_TLS_CA_FILE');
  return {
    ...common,
    groupId: e.EVALUATOR_GROUP_ID,
    rulesFile: e.RULES_FILE,
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX, ...(tlsCa ? { tlsCa } : {}), waitReplicas: e.REDIS_WAIT_REPLICAS, waitTimeoutMs: e.REDIS_WAIT_TIMEOUT },
    timerPollMs: e.EVALUATOR_TIMER_POLL,
    maxBatchEvents: e.EVALUATOR_MAX_BATCH_EVENTS,
    historyCap: e.EVALUATOR_HISTORY_CAP,
    stateCacheCustomers: e.EVALUATOR_STATE_CACHE,
    flapWindowMs: e.LABEL_FLAP_WINDOW,
    rulesPollMs: e.EVALUATOR_RULES_POLL,
    sweepPerSecond: e.EVALUATOR_SWEEP_RATE,
    backfillMaxCustomers: e.EVALUATOR_BACKFILL_MAX_CUSTOMERS,
    maxFutureSkewMs: e.INGEST_MAX_FUTURE_SKEW,
  };
}

/** Publisher: decisions in, public label events, current labels and webhooks out. */
export interface PublisherConfig extends CommonConfig {
  groupId: string;
  /** Path of a YAML/JSON file listing webhook destinations; webhooks are off when unset. */
  webhooksFile?: string;
}

export function loadPublisherConfig(env: Env): PublisherConfig {
  const common = loadCommon('publisher', 9466, env);
  const e = parseEnv({ PUBLISHER_GROUP_ID: envString('labelstream-publisher'), WEBHOOKS_FILE: envOptional }, env);
  return { ...common, groupId: e.PUBLISHER_GROUP_ID, ...(e.WEBHOOKS_FILE ? { webhooksFile: e.WEBHOOKS_FILE } : {}) };
}
