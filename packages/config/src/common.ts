import { z } from 'zod';
import { DEFAULT_TOPICS } from '@labelstream/contracts';
import { DURATION_GRAMMAR, formatDuration, parseDuration } from '@labelstream/duration';
import { DEFAULT_RETRY_BOUNDS, DEFAULT_SESSION_TIMEOUT_MS } from '@labelstream/kafka';

/** `true`/`false`/`1`/`0`/`yes`/`no` (case-insensitive). */
export const envBool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const s = v.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true/false, got "${v}"` });
      return z.NEVER;
    });

export const envInt = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer in [${min}, ${max}], got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

export const envDuration = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const ms = parseDuration(v === undefined || v === '' ? fallback : v);
      if (ms === undefined) {
        // A bare number was milliseconds before the one grammar: say what it now needs.
        const hint = /^\s*\d+\s*$/.test(v ?? '') ? ` (a unit is required: ${v!.trim()}ms?)` : '';
        ctx.addIssue({ code: 'custom', message: `expected ${DURATION_GRAMMAR}; got "${v}"${hint}` });
        return z.NEVER;
      }
      return ms;
    });

export const envString = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v));

export const envOptional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const brokers = z
  .string({ error: 'is required (comma-separated host:port list, e.g. 127.0.0.1:9092)' })
  .min(1, 'is required (comma-separated host:port list, e.g. 127.0.0.1:9092)')
  .transform((v, ctx) => {
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
    if (bad.length) {
      ctx.addIssue({ code: 'custom', message: `not host:port: ${bad.join(', ')}` });
      return z.NEVER;
    }
    return list;
  });

const url = (what: string) =>
  z
    .string({ error: `is required (${what})` })
    .min(1, `is required (${what})`)
    .refine((v) => {
      try {
        new URL(v);
        return true;
      } catch {
        return false;
      }
    }, 'is not a valid URL');

/** Variables every service reads: Kafka, registry, logging, HTTP, shutdown. */
export const commonEnv = {
  KAFKA_BROKERS: brokers,
  KAFKA_CLIENT_ID: envOptional,
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512', 'plain']).optional(),
  KAFKA_SASL_USERNAME: envOptional,
  KAFKA_SASL_PASSWORD: envOptional,
  KAFKA_TLS: envBool(false),
  KAFKA_TLS_CA_FILE: envOptional,
  KAFKA_CONNECTION_TIMEOUT_MS: envInt(3000, 100),
  /**
   * Codec of the batches the service produces; consumers read all four whatever this says.
   * lz4 by default: 2.9x fewer bytes on the broker than none at no measurable CPU cost
   * (BENCHMARKS.md, "Compression"); zstd stores a third less again for ~35 % more CPU.
   */
  KAFKA_COMPRESSION: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('lz4'),
  SCHEMA_REGISTRY_URL: url('Confluent-compatible schema registry base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7'),
  SCHEMA_REGISTRY_USERNAME: envOptional,
  SCHEMA_REGISTRY_PASSWORD: envOptional,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: envBool(false),
  HTTP_HOST: envString('0.0.0.0'),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  SHUTDOWN_TIMEOUT: envDuration('10s'),
  // The consumer runner's own defaults: a service and a runner built without them agree.
  CONSUMER_RETRY_BUDGET: envDuration(formatDuration(DEFAULT_RETRY_BOUNDS.budgetMs)),
  CONSUMER_MAX_RETRIES: envInt(DEFAULT_RETRY_BOUNDS.maxAttempts, 1, 1_000_000),
  /**
   * How long the group waits for a silent member before giving its partitions to others:
   * the time a crashed (SIGKILLed, OOM-killed) instance's partitions stand still. Members
   * heartbeat every tenth of it, between slices too. Default: the runner's ({@link DEFAULT_SESSION_TIMEOUT_MS}).
   */
  CONSUMER_SESSION_TIMEOUT: envDuration(formatDuration(DEFAULT_SESSION_TIMEOUT_MS)),
  DECODE_MAX_DEPTH: envInt(32, 4, 1000),
  DECODE_MAX_ITEMS: envInt(100_000, 1, 10_000_000),
  TOPIC_PARTITIONS: envInt(6, 1, 10_000),
  TOPIC_REPLICATION_FACTOR: envInt(1, 1, 10),
  TOPIC_CUSTOMER_EVENTS: envString(DEFAULT_TOPICS.customerEvents),
  TOPIC_DLQ: envString(DEFAULT_TOPICS.dlq),
  TOPIC_DECISIONS: envString(DEFAULT_TOPICS.decisions),
  TOPIC_LABEL_EVENTS: envString(DEFAULT_TOPICS.labelEvents),
  TOPIC_CUSTOMER_LABELS: envString(DEFAULT_TOPICS.customerLabels),
};
