import { parsePrometheusText, summarise } from './metrics-text';

const text = (consumed: number) => `# HELP x
labelstream_events_consumed_total{topic="storefront.purchases",type="purchase",service="ingest"} ${consumed}
labelstream_dlq_total{topic="labels.dlq.v1",reason="MALFORMED_JSON",service="ingest"} 3
labelstream_label_population{label="engaged",service="publisher"} 12
labelstream_label_population{label="high_value",service="publisher"} 4
`;

describe('metrics text', () => {
  it('parses samples with labels', () => {
    const s = parsePrometheusText(text(10));
    expect(s).toHaveLength(4);
    expect(s[0]).toEqual({ name: 'labelstream_events_consumed_total', labels: { topic: 'storefront.purchases', type: 'purchase', service: 'ingest' }, value: 10 });
  });

  it('summarises rates, populations and DLQ reasons', () => {
    const a = { at: 0, samples: parsePrometheusText(text(10)) };
    const b = { at: 10_000, samples: parsePrometheusText(text(510)) };
    const line = summarise(b, a);
    expect(line).toContain('in 50/s');
    expect(line).toContain('engaged=12 high_value=4');
    expect(line).toContain('MALFORMED_JSON=3');
  });
});
