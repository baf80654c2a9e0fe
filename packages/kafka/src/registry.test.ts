import { labelDecisionSchema, labelDecisionType, labelEventType } from '@labelstream/contracts';
import { UndecodableError } from './errors';
import { Registry } from './registry';

/** A Registry whose only registry call, the writer schema of id 7, is answered in memory. */
function registry(): Registry {
  const r = new Registry({ url: 'http://registry.invalid' });
  (r as unknown as { http: () => Promise<unknown> }).http = async () => ({ status: 200, json: { schema: JSON.stringify(labelDecisionSchema) } });
  return r;
}

const decision = {
  decisionId: '2-7',
  sourcePartition: 2,
  seq: 7,
  customerId: 'c-42',
  effectiveAt: 1_763_900_000_000,
  decidedAt: 1_763_900_000_250,
  rulesVersion: 'rules@v3',
  cause: { kind: 'EVENT', eventId: 'e-1', eventType: 'PURCHASE', eventOccurredAt: 1_763_900_000_000 },
  changes: [{ label: 'high-value', category: 'value', change: 'ASSIGNED', reason: 'enter', features: { spend_90d: 1200.5, tier: 'gold' } }],
  labels: ['high-value'],
  labelCategories: { 'high-value': 'value' },
};

describe('Registry encoder', () => {
  it('writes the Confluent frame: magic 0, the schema id, then the Avro body', () => {
    const bytes = registry().encoder(7, labelDecisionType)(decision);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(7);
    expect(bytes.subarray(5)).toEqual(labelDecisionType.toBuffer(decision));
  });

  it('returns a buffer of its own per value, also for values larger than its scratch space', () => {
    const encode = registry().encoder(7, labelDecisionType);
    const big = { ...decision, labels: Array.from({ length: 2000 }, (_, i) => `label-${i}`) };
    const a = encode(decision);
    const b = encode(big);
    const c = encode(decision);
    expect(labelDecisionType.fromBuffer(b.subarray(5))).toEqual(big);
    expect(a).toEqual(c);
    expect(a.buffer === c.buffer && a.byteOffset === c.byteOffset).toBe(false);
    expect(labelDecisionType.fromBuffer(a.subarray(5))).toEqual(decision);
  });
});

describe('Registry decodeIfLoaded', () => {
  it('is undefined until the writer schema was fetched, then decodes as decode() does', async () => {
    const r = registry();
    const bytes = r.encoder(7, labelDecisionType)(decision);
    expect(r.decodeIfLoaded(bytes, labelDecisionType)).toBeUndefined();
    const viaDecode = await r.decode(bytes, labelDecisionType);
    expect(r.decodeIfLoaded(bytes, labelDecisionType)).toEqual(viaDecode);
    expect(viaDecode).toEqual(decision);
  });

  it('throws UndecodableError for bytes that are not a frame or do not match their schema', async () => {
    const r = registry();
    const bytes = r.encoder(7, labelDecisionType)(decision);
    await r.decode(bytes, labelDecisionType);
    expect(() => r.decodeIfLoaded(Buffer.from('{"json":true}'), labelDecisionType)).toThrow(UndecodableError);
    expect(() => r.decodeIfLoaded(bytes.subarray(0, 12), labelDecisionType)).toThrow(UndecodableError);
    expect(() => r.decodeIfLoaded(bytes, labelEventType)).toThrow(UndecodableError);
  });
});
