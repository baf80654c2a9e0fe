import { ConfigError, loadEvaluatorConfig, loadIngestConfig } from './index';

/** A bad configuration is reported on stderr at start-up: the report must never echo a secret. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const base = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7' };

describe('configuration errors never quote a secret', () => {
  it.each([
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short-tok-42' }, 'short-tok-42'],
    ['KAFKA_SASL_USERNAME', { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'kafka-pw-8812' }, 'kafka-pw-8812'],
    ['KAFKA_SASL_MECHANISM', { KAFKA_SASL_MECHANISM: 'scram-sha-999', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'kafka-pw-8812' }, 'kafka-pw-8812'],
    ['SCHEMA_REGISTRY_PASSWORD', { SCHEMA_REGISTRY_PASSWORD: 'registry-pw-77' }, 'registry-pw-77'],
    ['SCHEMA_REGISTRY_URL', { SCHEMA_REGISTRY_URL: 'registry-pw-77 is no url' }, 'registry-pw-77'],
  ])('%s', (variable, env, secret) => {
    const message = messageOf(() => loadIngestConfig({ ...base, ...env }));
    expect(message).toContain(variable);
    expect(message).not.toContain(secret);
  });

  it('REDIS_URL', () => {
    const message = messageOf(() => loadEvaluatorConfig({ ...base, REDIS_URL: 'http://labelstream:redis-pw-31@127.0.0.1:6380' }));
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('redis-pw-31');
  });

  it('keeps the credentials in the configuration it returns', () => {
    const c = loadEvaluatorConfig({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'labelstream', KAFKA_SASL_PASSWORD: 'kafka-pw-8812', KAFKA_TLS: 'true', REDIS_URL: 'rediss://labelstream:redis-pw-31@127.0.0.1:26380' });
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'labelstream', password: 'kafka-pw-8812' });
    expect(c.kafka.ssl).toBe(true);
    expect(c.redis.url).toBe('rediss://labelstream:redis-pw-31@127.0.0.1:26380');
  });
});
