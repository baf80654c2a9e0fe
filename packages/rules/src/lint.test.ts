import { loadRules } from './compile';
import { lintRules, type LintCode } from './lint';

function rules(features: string, labels: string, extra = ''): ReturnType<typeof loadRules> {
  return loadRules(`version: "t"\nfeatures:\n${features}\nlabels:\n${labels}\n${extra}`);
}

const F = [
  '  spend: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }',
  '  clicks: { event: email_click, agg: count, window: 14d }',
  '  csat: { event: support_ticket, agg: last, field: satisfactionScore }',
  '  skus: { event: purchase, agg: distinct, field: skus, window: 90d }',
].join('\n');

function codes(labels: string, extra = ''): LintCode[] {
  return lintRules(rules(F, labels, extra))
    .filter((w) => w.code !== 'unused-feature')
    .map((w) => w.code);
}

function label(name: string, body: string, category = 'behaviour'): string {
  return `  ${name}: { category: ${category}, description: d, ${body} }`;
}

describe('lintRules', () => {
  it('is quiet for sensible rules', () => {
    expect(codes([label('a', 'enter: "spend >= 500", exit: "spend < 400"'), label('b', 'when: "clicks >= 3"'), label('c', 'when: "csat != null && csat >= 4"'), label('d', 'when: "skus >= 5"')].join('\n'))).toEqual([]);
  });

  it('warns about over-segmentation: too many labels, too many in a category', () => {
    const many = Array.from({ length: 27 }, (_, i) => label(`l${i}`, `when: "clicks >= ${i + 1}"`, i < 10 ? 'value' : 'custom')).join('\n');
    const ws = lintRules(rules(F, many));
    expect(ws.filter((w) => w.code === 'too-many-labels')).toHaveLength(1);
    expect(ws.filter((w) => w.code === 'too-many-in-category').map((w) => w.message)).toEqual([
      expect.stringContaining("category 'value' has 10 labels"),
      expect.stringContaining("category 'custom' has 17 labels"),
    ]);
    // thresholds from options and from the file's lint section
    expect(lintRules(rules(F, many), { maxLabels: 30, maxLabelsPerCategory: 20 }).filter((w) => w.code.startsWith('too-many'))).toEqual([]);
    expect(lintRules(rules(F, many, 'lint: { maxLabels: 30, maxLabelsPerCategory: 20 }')).filter((w) => w.code.startsWith('too-many'))).toEqual([]);
  });

  it('warns about labels that can never fire', () => {
    expect(codes(label('a', 'when: "clicks > 5 && clicks < 3"'))).toEqual(['never-fires']);
    expect(codes(label('a', 'when: "false"'))).toEqual(['never-fires']);
  });

  it('warns about labels that always hold', () => {
    expect(codes(label('a', 'when: "clicks >= 0"'))).toEqual(['always-holds']);
  });

  it('warns about hysteresis whose enter and exit overlap', () => {
    const ws = lintRules(rules(F, label('a', 'enter: "spend >= 500", exit: "spend < 600"')));
    const w = ws.find((x) => x.code === 'hysteresis-overlap');
    expect(w?.label).toBe('a');
    expect(w?.message).toMatch(/spend=5\d\d/);
  });

  it('warns about an exit that never holds', () => {
    expect(codes(label('a', 'enter: "spend >= 500", exit: "spend < 0"'))).toEqual(['never-exits']);
  });

  it('warns about duplicate conditions (after normalisation)', () => {
    const ws = lintRules(rules(F, [label('a', 'when: "clicks>=3"'), label('b', "when: \"(clicks >= 3)\"")].join('\n')));
    expect(ws.filter((w) => w.code === 'duplicate-condition').map((w) => w.message)).toEqual(["label 'b' has the same conditions as 'a'"]);
  });

  it('warns about unused features', () => {
    const ws = lintRules(rules(F, label('a', 'when: "clicks >= 3"')));
    expect(ws.filter((w) => w.code === 'unused-feature').map((w) => w.feature)).toEqual(['spend', 'csat', 'skus']);
  });

  it('warns about min/max/last read without a null guard', () => {
    const ws = lintRules(rules(F, label('a', 'when: "csat >= 4"')));
    const w = ws.find((x) => x.code === 'null-unsafe');
    expect(w).toMatchObject({ label: 'a', feature: 'csat' });
    expect(w?.message).toMatch(/csat != null/);
  });

  it('warns about distinct thresholds above the cap', () => {
    expect(codes(label('a', 'when: "skus >= 100"'))).toContain('distinct-cap');
  });
});
