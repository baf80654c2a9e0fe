import { parsePrometheusText, summarise } from './metrics-text';

const text = (consumed: number) => `# HELP x
labelstream_events_consumed_total{topic="storefront.purchases",type="purchase",service="ingest"} ${consumed}
labelstream_dlq_total{topic="labels.dlq.v1",reason="MALFORMED_JSON",service="ingest"} 3
labelstream_label_population{label="engaged",partition="0",service="evaluator"} 5
labelstream_label_population{label="engaged",partition="1",service="evaluator"} 7
labelstream_label_population{label="high_value",partition="1",service="evaluator"} 4
labelstream_label_population{label="vip",partition="1",service="evaluator"} 0
labelstream_unlabelled_customers{partition="0",service="evaluator"} 2
labelstream_unlabelled_customers{partition="1",service="evaluator"} 1
`;

describe('metrics text', () => {
  it('parses samples with labels', () => {
    const s = parsePrometheusText(text(10));
    expect(s).toHaveLength(8);
    expect(s[0]).toEqual({ name: 'labelstream_events_consumed_total', labels: { topic: 'storefront.purchases', type: 'purchase', service: 'ingest' }, value: 10 });
  });

  it('summarises rates, populations and DLQ reasons', () => {
    const a = { at: 0, samples: parsePrometheusText(text(10)) };
    const b = { at: 10_000, samples: parsePrometheusText(text(510)) };
    const line = summarise(b, a);
    // The whole printed summary: populations summed over partitions, empty labels left out.
    expect(line).toBe(
      [
        '── summary 00:00:10: in 50/s · evaluated 0/s · label changes 0/s',
        '   populations: engaged=12 high_value=4 (no label)=3',
        '   DLQ: MALFORMED_JSON=3',
      ].join('\n'),
    );
    expect(summarise({ at: 0, samples: [] }, undefined)).toContain('populations: (none yet)');
  });
});
