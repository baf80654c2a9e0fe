import type { KafkaMessage } from 'kafkajs';
import { toRawMessage } from './raw-message';

function kafkaMessage(over: Partial<KafkaMessage>): KafkaMessage {
  return { key: null, value: null, timestamp: '1714563911000', attributes: 0, offset: '42', headers: {}, ...over } as KafkaMessage;
}

describe('toRawMessage', () => {
  it('carries kind, value, key and the source position', () => {
    const value = Buffer.from('{"a":1}');
    const key = Buffer.from('k');
    expect(toRawMessage('purchase', { topic: 'storefront.purchases', partition: 3 }, kafkaMessage({ value, key, offset: '1844' }))).toEqual({
      kind: 'purchase',
      value,
      key,
      topic: 'storefront.purchases',
      partition: 3,
      offset: '1844',
    });
  });

  it('maps a tombstone and a missing key to null', () => {
    const raw = toRawMessage('email-click', { topic: 't', partition: 0 }, kafkaMessage({ value: null, key: undefined as unknown as null }));
    expect(raw.value).toBeNull();
    expect(raw.key).toBeNull();
  });
});
