import { loadIngestConfig } from '@labelstream/config';
import { normaliseJson, type RawMessage } from '@labelstream/ingest-core';
import { policyFromConfig } from './policy';

const env = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' };
const NOW = Date.parse('2024-05-01T12:00:00Z');

function purchase(amountMinor: number, currency: string): RawMessage {
  const value = { eventId: 'e1', customerId: 'c1', occurredAt: NOW - 1000, orderId: 'o1', amountMinor, currency };
  return { kind: 'purchase', value: Buffer.from(JSON.stringify(value)), key: null, topic: 'storefront.purchases', partition: 0, offset: '0' };
}

function baseAmount(policy: ReturnType<typeof policyFromConfig>, amountMinor: number, currency: string): number | string {
  const r = normaliseJson(purchase(amountMinor, currency), policy, NOW);
  return r.ok ? (r.event.purchase?.amountMinorBase ?? NaN) : r.reason;
}

describe('policyFromConfig', () => {
  it('compiles the default configuration: base EUR with the demo rate table', () => {
    const config = loadIngestConfig(env);
    const policy = policyFromConfig(config);
    expect(policy.baseCurrency).toBe('EUR');
    expect(policy.maxMessageBytes).toBe(config.maxMessageBytes);
    expect(policy.maxLatenessMs).toBe(config.maxLatenessMs);
    expect(policy.maxFutureSkewMs).toBe(config.maxFutureSkewMs);
    expect(policy.fxRatesToBase).toEqual(config.fxRatesToBase);
  });

  it('reads the rates in the same direction as the config: USD 0.92 means $1 = €0.92', () => {
    const policy = policyFromConfig(loadIngestConfig(env));
    expect(baseAmount(policy, 1000, 'usd')).toBe(920); // $10.00 → €9.20
    expect(baseAmount(policy, 10_000, 'JPY')).toBe(6100); // ¥10,000 at 0.0061 → €61.00 (JPY has no minor unit)
    expect(baseAmount(policy, 1234, 'EUR')).toBe(1234);
    expect(baseAmount(policy, 100, 'BRL')).toBe('NO_FX_RATE');
  });

  it('takes INGEST_FX_RATES and the customer id pattern from the environment', () => {
    const config = loadIngestConfig({ ...env, INGEST_BASE_CURRENCY: 'USD', INGEST_FX_RATES: '{"USD":1,"EUR":1.08}', INGEST_CUSTOMER_ID_PATTERN: '^c[0-9]+$' });
    const policy = policyFromConfig(config);
    expect(baseAmount(policy, 1000, 'EUR')).toBe(1080);
    expect(policy.customerIdPattern.test('c1')).toBe(true);
    expect(policy.customerIdPattern.test('x1')).toBe(false);
  });
});
