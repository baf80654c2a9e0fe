import { loadRules, parseRules } from './compile';
import { RulesError, type RuleIssue } from './errors';

/** A small valid file; tests splice their own sections in. */
function file(parts: { features?: string; labels?: string; groups?: string; extra?: string } = {}): string {
  return [
    'version: "t1"',
    'allowedLateness: 1h',
    'features:',
    parts.features ??
      [
        '  spend_90d: { event: purchase, agg: sum, field: amountMinorBase, window: 90d }',
        '  clicks_14d: { event: email_click, agg: count, window: 14d }',
        '  last_csat: { event: support_ticket, agg: last, field: satisfactionScore }',
      ].join('\n'),
    'labels:',
    parts.labels ??
      [
        '  high_value:',
        '    category: value',
        '    description: "big spender"',
        '    enter: "spend_90d >= 50000"',
        '    exit: "spend_90d < 40000"',
        '    minDwell: 7d',
        '  engaged:',
        '    category: behaviour',
        '    description: "clicks"',
        '    when: "clicks_14d >= 3"',
      ].join('\n'),
    ...(parts.groups !== undefined ? ['groups:', parts.groups] : []),
    ...(parts.extra !== undefined ? [parts.extra] : []),
    '',
  ].join('\n');
}

function issuesOf(text: string): readonly RuleIssue[] {
  const r = parseRules(text, { source: 'test.yaml' });
  if (r.ok) throw new Error('expected the rules to be invalid');
  return r.issues;
}

function only(text: string): RuleIssue {
  const issues = issuesOf(text);
  expect(issues).toHaveLength(1);
  return issues[0] as RuleIssue;
}

describe('loadRules: valid files', () => {
  it('compiles features, labels and defaults', () => {
    const rules = loadRules(file(), { source: 'test.yaml' });
    expect(rules.version).toBe('t1');
    expect(rules.allowedLatenessMs).toBe(3_600_000);
    expect(rules.source).toBe('test.yaml');
    const spend = rules.features.find((f) => f.name === 'spend_90d');
    expect(spend).toMatchObject({ event: 'purchase', agg: 'sum', field: 'amountMinorBase', windowMs: 90 * 86_400_000, bucketMs: 86_400_000, valueType: 'int' });
    const csat = rules.features.find((f) => f.name === 'last_csat');
    expect(csat).toMatchObject({ windowMs: null, bucketMs: 0, valueType: 'dyn', fieldType: 'int?' });
    const hv = rules.labels[0];
    expect(hv).toMatchObject({ name: 'high_value', category: 'value', minDwellMs: 7 * 86_400_000, referencedFeatures: ['spend_90d'], group: null });
    expect(hv?.sourceText).toContain('enter: "spend_90d >= 50000"');
    expect(hv?.sourceText.startsWith('  high_value:')).toBe(true);
  });

  it('evaluates enter and exit; `when` gets exit = !enter', () => {
    const rules = loadRules(file());
    const [hv, engaged] = rules.labels;
    expect(hv?.enter({ spend_90d: 50_000 })).toBe(true);
    expect(hv?.enter({ spend_90d: 45_000 })).toBe(false);
    expect(hv?.exit({ spend_90d: 45_000 })).toBe(false);
    expect(hv?.exit({ spend_90d: 39_999 })).toBe(true);
    expect(engaged?.conditions.exit).toBeNull();
    expect(engaged?.exit({ clicks_14d: 2 })).toBe(true);
    expect(engaged?.exit({ clicks_14d: 3 })).toBe(false);
  });

  it('treats a null dyn feature as null, and an evaluation error as "does not hold"', () => {
    const rules = loadRules(
      file({
        labels: [
          '  happy: { category: satisfaction, description: d, when: "last_csat != null && last_csat >= 4" }',
          '  risky: { category: satisfaction, description: d, when: "last_csat >= 4" }',
        ].join('\n'),
      }),
    );
    const [happy, risky] = rules.labels;
    expect(happy?.enter({ last_csat: null })).toBe(false);
    expect(happy?.enter({ last_csat: 5 })).toBe(true);
    const out = risky?.conditions.enter.evaluate({ last_csat: null });
    expect(out?.holds).toBe(false);
    expect(out?.error).toMatch(/overload/);
    // default exit of a failing enter: enter does not hold, so exit holds
    expect(risky?.exit({ last_csat: null })).toBe(true);
  });

  it('compiles where filters over the flat event view', () => {
    const rules = loadRules(
      file({
        features: [
          '  outdoor: { event: purchase, agg: count, window: 180d, where: "event.categories.exists(c, c == \'outdoor\')" }',
          '  rated: { event: support_ticket, agg: count, where: "event.satisfactionScore != null && event.satisfactionScore >= 4" }',
          '  big: { event: purchase, agg: count, window: 30d, bucket: 1h, where: "event.amountMinorBase > 10000 && event.channel in [\'WEB\', \'MOBILE_APP\']" }',
        ].join('\n'),
        labels: '  x: { category: custom, description: d, when: "outdoor >= 1 || rated > 0 || big > 0" }',
      }),
    );
    const [outdoor, rated, big] = rules.features;
    expect(outdoor?.where?.matches({ eventType: 'PURCHASE', occurredAt: 1, categories: ['shoes', 'outdoor'] })).toBe(true);
    expect(outdoor?.where?.matches({ eventType: 'PURCHASE', occurredAt: 1, categories: [] })).toBe(false);
    expect(rated?.where?.matches({ eventType: 'SUPPORT_TICKET', occurredAt: 1, satisfactionScore: null })).toBe(false);
    expect(rated?.where?.matches({ eventType: 'SUPPORT_TICKET', occurredAt: 1, satisfactionScore: 5 })).toBe(true);
    expect(big?.bucketMs).toBe(3_600_000);
    expect(big?.where?.matches({ eventType: 'PURCHASE', occurredAt: 1, amountMinorBase: 20000, channel: 'WEB' })).toBe(true);
    expect(big?.where?.matches({ eventType: 'PURCHASE', occurredAt: 1, amountMinorBase: 20000, channel: 'STORE' })).toBe(false);
  });

  it('hashes data, not formatting or comments', () => {
    const a = loadRules(file());
    const b = loadRules('# a comment\n' + file().replace('allowedLateness: 1h', 'allowedLateness:   1h   # tolerance'));
    const c = loadRules(file().replace('"t1"', '"t2"'));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
  });

  it('gives features storage keys by definition: equal definitions share, changed ones differ', () => {
    const rules = loadRules(
      file({
        features: [
          '  a_90d: { event: purchase, agg: count, window: 90d }',
          '  b_60d: { event: purchase, agg: count, window: 60d }',
          '  c_14d: { event: purchase, agg: count, window: 14d }',
          '  d_life: { event: purchase, agg: count }',
        ].join('\n'),
        labels: '  x: { category: custom, description: d, when: "a_90d + b_60d + c_14d + d_life > 0" }',
      }),
    );
    const key = (n: string): string | undefined => rules.features.find((f) => f.name === n)?.storageKey;
    expect(key('a_90d')).toBe(key('b_60d')); // same event/agg/bucket (1d): shared buckets
    expect(key('c_14d')).not.toBe(key('a_90d')); // 6h buckets
    expect(key('d_life')).not.toBe(key('a_90d'));
    expect(key('a_90d')).toMatch(/^[A-Za-z0-9_-]{5,}$/);
  });
});

describe('loadRules: validation', () => {
  it('throws RulesError with every issue', () => {
    const text = file({ labels: '  a: { category: value, description: d, when: "nope > 1 && spend_90d > \'x\'" }' });
    let error: unknown;
    try {
      loadRules(text, { source: 'bad.yaml' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RulesError);
    const re = error as RulesError;
    expect(re.code).toBe('RULES_INVALID');
    expect(re.retriable).toBe(false);
    expect(re.issues).toHaveLength(2);
    expect(re.message).toContain('bad.yaml');
  });

  it('names the label and position of an unknown feature', () => {
    const i = only(file({ labels: '  vip:\n    category: value\n    description: d\n    when: "spend_90d > 1 && spend_9d > 2"' }));
    expect(i).toMatchObject({ path: 'labels.vip.when', label: 'vip', line: 11 });
    expect(i.message).toMatch(/unknown feature 'spend_9d'/);
    // `    when: "` is 11 characters, spend_9d starts at expression offset 17
    expect(i.column).toBe(11 + 17 + 1);
  });

  it('names the label and position of a syntax error', () => {
    const i = only(file({ labels: '  vip:\n    category: value\n    description: d\n    when: "spend_90d >= 50000 &&"' }));
    expect(i).toMatchObject({ path: 'labels.vip.when', label: 'vip', line: 11 });
    expect(i.message).toMatch(/syntax error/);
    expect(i.column).toBeGreaterThan(11);
  });

  it('maps positions inside literal block scalars', () => {
    const i = only(file({ labels: '  vip:\n    category: value\n    description: d\n    when: |\n      spend_90d > 1 &&\n        bogus > 2' }));
    expect(i).toMatchObject({ line: 13, column: 9 });
  });

  it.each([
    ['int vs string', 'spend_90d >= "x"', /no such overload: int >= string/],
    ['int vs null', 'spend_90d != null', /int != null_type.*never null/],
    ['int + double', 'spend_90d + 1.5 > 2.0', /never converts implicitly/],
    ['non-boolean condition', 'spend_90d + 1', /must be a boolean/],
    ['unknown function', 'now() > 1', /unknown function 'now'/],
    ['&& on int', 'spend_90d && true', /needs bool operands/],
  ])('reports type errors: %s', (_name, expr, message) => {
    const i = only(file({ labels: `  a: { category: value, description: d, when: ${JSON.stringify(expr)} }` }));
    expect(i.label).toBe('a');
    expect(i.message).toMatch(message);
  });

  it('accepts dyn features in comparisons, null checks and ternaries', () => {
    expect(
      parseRules(file({ labels: '  a: { category: value, description: d, when: "last_csat != null && (last_csat >= 4 ? true : last_csat == 3)" }' })).ok,
    ).toBe(true);
  });

  it('reports unknown event and agg', () => {
    const issues = issuesOf(file({ features: '  x: { event: refund, agg: median }', labels: '  a: { category: value, description: d, when: "x > 1" }' }));
    expect(issues.map((i) => i.path).sort()).toEqual(['features.x.agg', 'features.x.event']);
    // the label referencing the broken feature is not reported again
  });

  it.each([
    ['a field on another event type', '{ event: email_click, agg: sum, field: amountMinor, window: 1d }', /does not exist on email_click events/],
    ['a non-numeric sum', '{ event: purchase, agg: sum, field: currency, window: 1d }', /needs a numeric field/],
    ['last of a list', '{ event: purchase, agg: last, field: categories }', /single-valued/],
    ['count with a field', '{ event: purchase, agg: count, field: amountMinor }', /takes no field/],
    ['sum without a field', '{ event: purchase, agg: sum, window: 1d }', /needs a 'field'/],
    ['an invalid window', '{ event: purchase, agg: count, window: 3x }', /invalid duration '3x'/],
    ['a bucket longer than the window', '{ event: purchase, agg: count, window: 1h, bucket: 2h }', /longer than the window/],
    ['a bucket on a lifetime feature', '{ event: purchase, agg: count, bucket: 1h }', /lifetime feature has no buckets/],
    ['an event field unknown to the filter', '{ event: email_click, agg: count, where: "event.amountMinor > 1" }', /unknown field 'event.amountMinor' for email_click/],
    ['a filter reading a feature', '{ event: purchase, agg: count, where: "spend > 1" }', /a filter sees only 'event'/],
    ['a non-common field on any', '{ event: any, agg: distinct, field: campaignId }', /does not exist on 'any' events/],
  ])('reports %s', (_name, def, message) => {
    const i = only(file({ features: `  f: ${def}`, labels: '  a: { category: value, description: d, when: "f > 0" }' }));
    expect(i.path.startsWith('features.f')).toBe(true);
    expect(i.message).toMatch(message);
    expect(i.line).toBe(4);
  });

  it('reports group members that are not labels and labels in two exclusive groups', () => {
    const issues = issuesOf(
      file({ groups: '  g1: { exclusive: true, priority: [high_value, ghost] }\n  g2: { priority: [high_value, engaged] }\n  g3: { exclusive: false, priority: [high_value] }' }),
    );
    expect(issues.map((i) => i.message)).toEqual([
      "group 'g1' lists 'ghost', which is not a label",
      "label 'high_value' is in two exclusive groups ('g1' and 'g2')",
    ]);
    expect(issues[1]?.label).toBe('high_value');
  });

  it('reports `when` together with enter/exit, and exit without enter', () => {
    const a = only(file({ labels: '  a: { category: value, description: d, when: "spend_90d > 1", exit: "spend_90d < 1" }' }));
    expect(a.message).toMatch(/either 'when' or 'enter'\/'exit'/);
    const b = only(file({ labels: '  a: { category: value, description: d, exit: "spend_90d < 1" }' }));
    expect(b.message).toMatch(/'exit' needs an 'enter'/);
  });

  it('reports invalid durations for lateness and dwell', () => {
    const issues = issuesOf(file().replace('allowedLateness: 1h', 'allowedLateness: 1hour').replace('minDwell: 7d', 'minDwell: 7days'));
    expect(issues.map((i) => i.path).sort()).toEqual(['allowedLateness', 'labels.high_value.minDwell']);
  });

  it('reports unknown keys, bad categories and bad names with positions', () => {
    const issues = issuesOf(
      file({
        labels: ['  a: { category: vip, description: d, when: "spend_90d > 1" }', '  b: { category: value, description: d, when: "spend_90d > 1", colour: red }', '  Bad-Name: { category: value, description: d, when: "spend_90d > 1" }'].join('\n'),
      }),
    );
    expect(issues.map((i) => [i.path, i.label, i.line])).toEqual([
      ['labels.a.category', 'a', 8],
      ['labels.b.colour', 'b', 9],
      ['labels.Bad-Name', 'Bad-Name', 10],
    ]);
    expect(issues[0]?.message).toMatch(/category must be one of/);
    expect(issues[1]?.message).toBe("unknown key 'colour'");
  });

  it('reports YAML syntax errors with a position', () => {
    const issues = issuesOf('version: "x"\nfeatures: {\nlabels: [');
    expect(issues[0]?.path).toBe('(yaml)');
    expect(issues[0]?.line).toBeDefined();
  });

  it('reports a missing version and a file with no labels', () => {
    expect(issuesOf('features: {}\nlabels: {}\n').map((i) => i.path)).toContain('version');
    expect(issuesOf('version: x\nfeatures: {}\nlabels: {}\n').map((i) => i.message)).toContain('define at least one label');
  });

  it('rejects reserved words as names', () => {
    const i = only(file({ features: '  event: { event: purchase, agg: count }', labels: '  a: { category: value, description: d, when: "true" }' }));
    expect(i.message).toMatch(/reserved word/);
  });
});
