import { publicHeaders, readPublishedPosition } from './headers';

describe('published position headers', () => {
  it('round-trips through Kafka header bytes', () => {
    const h = publicHeaders({ seq: 123456789012, sourcePartition: 5, decisionId: '5-123456789012', rulesVersion: 'v1' });
    const asBytes = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));
    expect(readPublishedPosition(asBytes)).toEqual({ seq: 123456789012, sourcePartition: 5, decisionId: '5-123456789012' });
  });

  it('is undefined for records Labelstream did not write', () => {
    expect(readPublishedPosition(undefined)).toBeUndefined();
    expect(readPublishedPosition({})).toBeUndefined();
    expect(readPublishedPosition({ 'ls-seq': Buffer.from('') , 'ls-source-partition': '1' })).toBeUndefined();
    expect(readPublishedPosition({ 'ls-seq': 'x', 'ls-source-partition': '1' })).toBeUndefined();
    expect(readPublishedPosition({ 'ls-seq': '-1', 'ls-source-partition': '1' })).toBeUndefined();
    expect(readPublishedPosition({ 'ls-seq': '3' })).toBeUndefined();
  });
});
