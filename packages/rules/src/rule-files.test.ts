import { resolve } from 'node:path';
import { checkRulesFile, formatCheckResult, readRulesFile } from './check-file';
import { RulesFileError } from './errors';

const ROOT = resolve(__dirname, '../../..');

describe.each(['rules/default.yaml', 'rules/demo.yaml'])('%s', (relative) => {
  const path = resolve(ROOT, relative);

  it('passes validation and lint without errors or warnings', () => {
    const result = checkRulesFile(path);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ labels: 13, groups: 2, categories: { value: 1, lifecycle: 5, behaviour: 3, satisfaction: 3, custom: 1 } });
    expect(formatCheckResult(result)).toContain(': OK — version');
  });

  it('defines the documented labels and exclusive groups', () => {
    const rules = readRulesFile(path);
    expect(rules.labels.map((l) => l.name)).toEqual([
      'high_value', 'first_time_buyer', 'repeat_customer', 'engaged', 'inactive',
      'lead', 'customer', 'loyal', 'advocate', 'dissatisfied', 'satisfied', 'neutral', 'outdoor_enthusiast',
    ]);
    expect(rules.groups.map((g) => [g.name, g.exclusive, g.priority])).toEqual([
      ['lifecycle', true, ['advocate', 'loyal', 'customer', 'lead']],
      ['satisfaction', true, ['dissatisfied', 'satisfied', 'neutral']],
    ]);
    const hv = rules.labels.find((l) => l.name === 'high_value');
    expect(hv?.conditions.exit).not.toBeNull();
    expect(rules.labels.some((l) => l.minDwellMs > 0 && l.group === 'satisfaction')).toBe(true);
  });
});

describe('demo rules', () => {
  it('uses windows short enough for a live demo (at most 5 minutes)', () => {
    const rules = readRulesFile(resolve(ROOT, 'rules/demo.yaml'));
    for (const f of rules.features) if (f.windowMs !== null) expect(f.windowMs).toBeLessThanOrEqual(300_000);
    const engaged = rules.features.find((f) => f.name === 'clicks_60s');
    const activity = rules.features.find((f) => f.name === 'activity_90s');
    expect([engaged?.windowMs, engaged?.bucketMs, activity?.windowMs, activity?.bucketMs]).toEqual([60_000, 1_000, 90_000, 1_000]);
  });
});

describe('checkRulesFile', () => {
  it('reports an unreadable file as an error, without throwing', () => {
    const result = checkRulesFile(resolve(ROOT, 'rules/does-not-exist.yaml'));
    expect(result.ok).toBe(false);
    expect(result.errors[0]?.message).toMatch(/cannot read rules file/);
  });

  it('readRulesFile throws RulesFileError for an unreadable file', () => {
    expect(() => readRulesFile('/nonexistent/rules.yaml')).toThrow(RulesFileError);
  });
});
