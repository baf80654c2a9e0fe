import { DEFAULT_RETRY_BOUNDS, DEFAULT_SESSION_TIMEOUT_MS } from '@labelstream/kafka';
import { ConfigError, loadEvaluatorConfig, loadIngestConfig, loadPublisherConfig } from './index';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7' };

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => i.variable);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults for ingest', () => {
    const c = loadIngestConfig(base);
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.kafka.clientId).toBe('labelstream-ingest');
    expect(c.http.port).toBe(9464);
    expect(c.rawTopics.purchases).toBe('storefront.purchases');
    expect(c.maxLatenessMs).toBe(7 * 86_400_000);
    expect(c.fxRatesToBase.EUR).toBe(1);
    expect(c.customerIdPattern.test('c-000001')).toBe(true);
    expect(c.adminToken).toBeUndefined();
  });

  it('produces lz4 by default (BENCHMARKS.md, Compression); KAFKA_COMPRESSION picks one of Kafka’s codecs, or none', () => {
    expect(loadIngestConfig(base).kafka.compression).toBe('lz4');
    expect(loadIngestConfig({ ...base, KAFKA_COMPRESSION: 'none' }).kafka.compression).toBe('none');
    expect(loadPublisherConfig({ ...base, KAFKA_COMPRESSION: 'zstd' }).kafka.compression).toBe('zstd');
    expect(issuesOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', KAFKA_COMPRESSION: 'brotli' }))).toEqual(['KAFKA_COMPRESSION']);
  });

  it('derives size limits from RAW_MAX_RECORD_BYTES and refuses an ingest limit above it', () => {
    const c = loadIngestConfig(base);
    expect({ raw: c.rawMaxRecordBytes, ingest: c.maxMessageBytes }).toEqual({ raw: 2_097_152, ingest: 1_000_000 });
    expect(loadIngestConfig({ ...base, RAW_MAX_RECORD_BYTES: '8388608', INGEST_MAX_MESSAGE_BYTES: '8000000' }).maxMessageBytes).toBe(8_000_000);
    expect(issuesOf(() => loadIngestConfig({ ...base, RAW_MAX_RECORD_BYTES: '1048576', INGEST_MAX_MESSAGE_BYTES: '2000000' }))).toEqual(['INGEST_MAX_MESSAGE_BYTES']);
    expect(issuesOf(() => loadIngestConfig({ ...base, RAW_MAX_RECORD_BYTES: '100' }))).toEqual(['RAW_MAX_RECORD_BYTES']);
  });

  it('bounds consumer retries and decoding, configurably', () => {
    const c = loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(c.consumerRetry).toEqual({ maxAttempts: 100, budgetMs: 300_000 });
    expect(c.decodeLimits).toEqual({ maxDepth: 32, maxItems: 100_000 });
    const d = loadPublisherConfig({ ...base, CONSUMER_RETRY_BUDGET: '90s', CONSUMER_MAX_RETRIES: '7', DECODE_MAX_DEPTH: '16', DECODE_MAX_ITEMS: '500' });
    expect(d.consumerRetry).toEqual({ maxAttempts: 7, budgetMs: 90_000 });
    expect(d.decodeLimits).toEqual({ maxDepth: 16, maxItems: 500 });
    expect(issuesOf(() => loadPublisherConfig({ ...base, CONSUMER_MAX_RETRIES: '0' }))).toEqual(['CONSUMER_MAX_RETRIES']);
  });

  it("defaults the consumer's session timeout and retry bounds to the runner's own (8 s, as the README says)", () => {
    const c = loadIngestConfig(base);
    expect(c.consumerSessionTimeoutMs).toBe(DEFAULT_SESSION_TIMEOUT_MS);
    expect(c.consumerSessionTimeoutMs).toBe(8000);
    expect(c.consumerRetry).toEqual(DEFAULT_RETRY_BOUNDS);
    expect(loadPublisherConfig({ ...base, CONSUMER_SESSION_TIMEOUT: '6s' }).consumerSessionTimeoutMs).toBe(6000);
    expect(issuesOf(() => loadPublisherConfig({ ...base, CONSUMER_SESSION_TIMEOUT: '8000' }))).toEqual(['CONSUMER_SESSION_TIMEOUT']);
  });

  it('names every missing or invalid variable at once', () => {
    const vars = issuesOf(() => loadEvaluatorConfig({ KAFKA_BROKERS: 'nope', HTTP_PORT: 'x' }));
    expect(vars).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'HTTP_PORT']));
  });

  it('requires REDIS_URL for the evaluator and checks its scheme', () => {
    expect(issuesOf(() => loadEvaluatorConfig(base))).toEqual(['REDIS_URL']);
    expect(issuesOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'http://x' }))).toEqual(['REDIS_URL']);
    const c = loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6380', EVALUATOR_TIMER_POLL: '1s' });
    expect(c.timerPollMs).toBe(1000);
    expect(c.redis.keyPrefix).toBe('lbl');
    expect([c.maxBatchEvents, c.historyCap]).toEqual([2000, 3]);
    expect(loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1', EVALUATOR_HISTORY_CAP: '0' }).historyCap).toBe(0);
    expect(loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1' }).flapWindowMs).toBe(24 * 3_600_000);
    expect(loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1', LABEL_FLAP_WINDOW: '6h' }).flapWindowMs).toBe(6 * 3_600_000);
    expect(issuesOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1', EVALUATOR_HISTORY_CAP: '-1' }))).toEqual(['EVALUATOR_HISTORY_CAP']);
  });

  it('takes a Redis Cluster URL and a replica wait', () => {
    const c = loadEvaluatorConfig({ ...base, REDIS_URL: 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '500ms' });
    expect(c.redis).toMatchObject({ url: 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002', waitReplicas: 1, waitTimeoutMs: 500 });
    expect(loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1' }).redis).toMatchObject({ waitReplicas: 0, waitTimeoutMs: 2000 });
    expect(issuesOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'cluster://x:1' }))).toEqual(['REDIS_URL']);
    expect(issuesOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'redis://x:1', REDIS_WAIT_REPLICAS: 'one' }))).toEqual(['REDIS_WAIT_REPLICAS']);
  });

  it('requires SASL credentials with a mechanism', () => {
    expect(issuesOf(() => loadPublisherConfig({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512' }))).toEqual([
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
    ]);
    const c = loadPublisherConfig({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_TLS: 'true' });
    expect(c.kafka.sasl?.mechanism).toBe('scram-sha-512');
    expect(c.kafka.ssl).toBe(true);
  });

  it("takes each service's own Kafka user from <SERVICE>_KAFKA_SASL_*, else the shared one", () => {
    const env = {
      ...base,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'shared',
      KAFKA_SASL_PASSWORD: 'shared-pw',
      INGEST_KAFKA_SASL_USERNAME: 'ingest',
      INGEST_KAFKA_SASL_PASSWORD: 'ingest-pw',
      EVALUATOR_KAFKA_SASL_USERNAME: 'evaluator',
      EVALUATOR_KAFKA_SASL_PASSWORD: 'evaluator-pw',
      REDIS_URL: 'redis://127.0.0.1:6380',
    };
    expect(loadIngestConfig(env).kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'ingest', password: 'ingest-pw' });
    expect(loadEvaluatorConfig(env).kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'evaluator', password: 'evaluator-pw' });
    expect(loadPublisherConfig(env).kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'shared', password: 'shared-pw' });
    // the service's own names satisfy "required with a mechanism" too
    const own = { ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', PUBLISHER_KAFKA_SASL_USERNAME: 'publisher', PUBLISHER_KAFKA_SASL_PASSWORD: 'p' };
    expect(loadPublisherConfig(own).kafka.sasl?.username).toBe('publisher');
    expect(issuesOf(() => loadIngestConfig(own))).toEqual(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']);
    // it reads those names only, not the whole environment (deployment checks watch what a loader reads)
    const read = new Set<string>();
    loadIngestConfig(new Proxy({ ...env, UNRELATED_VARIABLE: 'x' }, { get: (t, k) => (typeof k === 'string' && read.add(k), t[k as keyof typeof t]) }));
    expect(read.has('INGEST_KAFKA_SASL_USERNAME')).toBe(true);
    expect(read.has('UNRELATED_VARIABLE')).toBe(false);
    expect(read.has('EVALUATOR_KAFKA_SASL_USERNAME')).toBe(false);
  });

  it('takes an optional key for hashing personal-looking event ids, never echoing it', () => {
    expect(loadIngestConfig(base).eventIdHashKey).toBeUndefined();
    expect(loadIngestConfig({ ...base, INGEST_EVENT_ID_HASH_KEY: 'k'.repeat(32) }).eventIdHashKey).toBe('k'.repeat(32));
    expect(issuesOf(() => loadIngestConfig({ ...base, INGEST_EVENT_ID_HASH_KEY: 'short-key-9' }))).toEqual(['INGEST_EVENT_ID_HASH_KEY']);
    expect(() => loadIngestConfig({ ...base, INGEST_EVENT_ID_HASH_KEY: 'short-key-9' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('short-key-9') }));
  });

  it('passes registry credentials, both or neither', () => {
    expect(loadIngestConfig({ ...base, SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'p' }).registry.auth).toEqual({ username: 'u', password: 'p' });
    expect(loadIngestConfig(base).registry.auth).toBeUndefined();
    expect(issuesOf(() => loadIngestConfig({ ...base, SCHEMA_REGISTRY_USERNAME: 'u' }))).toEqual(['SCHEMA_REGISTRY_PASSWORD']);
  });

  it('never echoes a secret in its error message', () => {
    try {
      loadPublisherConfig({ ...base, ADMIN_TOKEN: 'short-secret' });
      throw new Error('expected failure');
    } catch (e) {
      expect((e as Error).message).toContain('ADMIN_TOKEN');
      expect((e as Error).message).not.toContain('short-secret');
    }
  });

  it('validates the FX table against the base currency', () => {
    expect(issuesOf(() => loadIngestConfig({ ...base, INGEST_FX_RATES: '{"USD":1}' }))).toEqual(['INGEST_FX_RATES']);
    expect(issuesOf(() => loadIngestConfig({ ...base, INGEST_FX_RATES: 'not json' }))).toEqual(['INGEST_FX_RATES']);
    expect(loadIngestConfig({ ...base, INGEST_BASE_CURRENCY: 'USD', INGEST_FX_RATES: '{"USD":1,"EUR":1.08}' }).fxRatesToBase.EUR).toBe(1.08);
  });

  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['15m', 900_000],
    ['2h', 7_200_000],
  ])('reads duration settings in the one grammar: %s', (text, ms) => {
    expect(loadIngestConfig({ ...base, SHUTDOWN_TIMEOUT: text }).shutdownTimeoutMs).toBe(ms);
  });

  it.each(['1500', 'abc', '-1s', '30 s'])('refuses %j as a duration, naming the variable', (text) => {
    expect(issuesOf(() => loadIngestConfig({ ...base, SHUTDOWN_TIMEOUT: text }))).toEqual(['SHUTDOWN_TIMEOUT']);
  });

  it('tells a bare number (milliseconds before the one grammar) it needs a unit', () => {
    expect(() => loadIngestConfig({ ...base, SHUTDOWN_TIMEOUT: '1500' })).toThrow(/SHUTDOWN_TIMEOUT.*a unit is required: 1500ms\?/);
  });
});
