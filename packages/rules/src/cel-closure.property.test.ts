/**
 * Property tests: conditions and filters compiled into closures give exactly the outcome of
 * @bufbuild/cel alone (`compileExpressions: false`) — same holds/matches, value, error
 * message, or the same exception — for random expressions over the CEL subset rules use
 * (plus some it leaves to the library) and random feature values and events.
 */
import fc from 'fast-check';
import { parseCel, type CelVarType } from './cel';
import { conditionScope, filterScope } from './cel-bindings';
import { compileCelClosure, type CelClosure } from './cel-closure';
import { parseRules } from './compile';
import { fieldsOf } from './event-fields';
import type { EventView } from './event-fields';
import type { CompiledRules, FeatureValues } from './types';

/** What an evaluation did: its result, or the exception it threw. */
function outcome(run: () => unknown): unknown {
  try {
    return { result: run() };
  } catch (e) {
    return { threw: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** Both compilations of one rules text, or undefined when the text does not type-check. */
function bothWays(text: string): { fast: CompiledRules; library: CompiledRules } | undefined {
  const fast = parseRules(text, { compileExpressions: true });
  const library = parseRules(text, { compileExpressions: false });
  expect(fast.ok).toBe(library.ok);
  return fast.ok && library.ok ? { fast: fast.rules, library: library.rules } : undefined;
}

/** Counts how many evaluations a closure answered itself (a bool), so the properties are known to test the closures, not only the fallback. */
class Coverage<S> {
  answered = 0;
  total = 0;
  add(closure: CelClosure<S> | undefined, inputs: readonly S[]): void {
    for (const input of inputs) {
      this.total++;
      try {
        if (closure && typeof closure(input) === 'boolean') this.answered++;
      } catch {
        // a library sub-expression's binding threw (NaN): not answered
      }
    }
  }
}

const parens = (s: string): string => `(${s})`;

// ---- Values: ints around every boundary that matters (2^53 for the closures, 2^63 for CEL), doubles, and the other types.
const BIG = [
  2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53 - 1), -(2 ** 53), 2 ** 62, 2 ** 63, -(2 ** 63), 2 ** 64, 1e20,
  3037000499, 3037000500, 94906265, 94906266, 4294967296,
];
const anyNumber = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -12, max: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...BIG) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -1.5, 2.0000001, -0, Number.NaN, Infinity, -Infinity) },
);
const anyValue = fc.oneof(
  { weight: 6, arbitrary: anyNumber },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b', '', 'outdoor') },
  { weight: 1, arbitrary: fc.boolean() },
);

// ---- Expression text over a set of variable (or field) names.
const INT_LITERALS = [
  '0', '1', '2', '3', '7', '-1', '-5', '100', '9223372036854775807', '-9223372036854775807', '4611686018427387904',
  '9007199254740991', '9007199254740993', '3037000500', '94906266',
];

function expressions(vars: readonly string[], lists: readonly string[]): { bool: fc.Arbitrary<string> } {
  const { bool } = fc.letrec<{ term: string; bool: string }>((tie) => ({
    term: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: fc.constantFrom(...vars) },
      { weight: 3, arbitrary: fc.constantFrom(...INT_LITERALS) },
      { weight: 1, arbitrary: fc.constantFrom("'a'", "'b'", "''", 'null', 'true', 'false') },
      { weight: 1, arbitrary: fc.constantFrom('1.5', '2.0', '3u', "b'x'") },
      {
        weight: 4,
        arbitrary: fc
          .tuple(tie('term'), fc.constantFrom('+', '-', '*', '/', '%'), tie('term'))
          .map(([l, op, r]) => parens(`${l} ${op} ${r}`)),
      },
      { weight: 1, arbitrary: tie('term').map((t) => `-${parens(t)}`) },
      { weight: 1, arbitrary: fc.tuple(tie('bool'), tie('term'), tie('term')).map(([c, t, f]) => parens(`${c} ? ${t} : ${f}`)) },
      // Library sub-expressions (calls) inside compiled ones.
      { weight: 1, arbitrary: tie('term').map((t) => `int(${t})`) },
      { weight: 1, arbitrary: fc.constantFrom(...vars).map((v) => `size(string(${v}))`) },
    ),
    bool: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 1, arbitrary: fc.constantFrom('true', 'false') },
      {
        weight: 6,
        arbitrary: fc
          .tuple(tie('term'), fc.constantFrom('==', '!=', '<', '<=', '>', '>='), tie('term'))
          .map(([l, op, r]) => `${l} ${op} ${r}`),
      },
      { weight: 3, arbitrary: fc.tuple(tie('bool'), fc.constantFrom('&&', '||'), tie('bool')).map(([l, op, r]) => parens(`${l} ${op} ${r}`)) },
      { weight: 1, arbitrary: tie('bool').map((b) => `!${parens(b)}`) },
      { weight: 1, arbitrary: fc.constantFrom(...vars) },
      { weight: 1, arbitrary: fc.tuple(tie('term'), fc.array(tie('term'), { maxLength: 3 })).map(([t, l]) => `${t} in [${l.join(', ')}]`) },
      { weight: 1, arbitrary: fc.tuple(tie('term'), fc.constantFrom(...lists)).map(([t, l]) => `${t} in ${l}`) },
    ),
  }));
  return { bool };
}

const CONDITION_FEATURES = `
features:
  n1: { event: purchase, agg: count, window: 1d }
  n2: { event: purchase, agg: sum, field: quantity, window: 1d }
  d1: { event: support_ticket, agg: last, field: satisfactionScore }
  d2: { event: purchase, agg: max, field: amountMinorBase }
  s1: { event: purchase, agg: last, field: channel }
`;
const FEATURE_NAMES = ['n1', 'n2', 'd1', 'd2', 's1'] as const;
const VAR_TYPES: Record<string, CelVarType> = { n1: 'int', n2: 'int', d1: 'dyn', d2: 'dyn', s1: 'dyn' };

const featureValues: fc.Arbitrary<FeatureValues> = fc.record(
  Object.fromEntries(FEATURE_NAMES.map((n) => [n, anyValue])) as Record<(typeof FEATURE_NAMES)[number], fc.Arbitrary<FeatureValues[string]>>,
  { requiredKeys: [] },
);

const FIELDS = ['event.amountMinorBase', 'event.quantity', 'event.currency', 'event.channel', 'event.occurredAt'];
const eventViews: fc.Arbitrary<EventView> = fc.record(
  {
    amountMinorBase: anyValue,
    quantity: anyValue,
    occurredAt: anyValue,
    currency: fc.oneof(fc.constantFrom('EUR', 'a', ''), anyValue),
    channel: fc.oneof(fc.constantFrom('WEB', 'STORE'), anyValue),
    categories: fc.oneof(fc.array(fc.constantFrom('outdoor', 'a', 'b'), { maxLength: 3 }), anyValue),
    skus: fc.oneof(fc.array(fc.constantFrom('a', 'b'), { maxLength: 3 }), anyValue),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<EventView>;

const yamlString = (s: string): string => JSON.stringify(s);

describe('compiled conditions', () => {
  it('give the outcome of @bufbuild/cel for random expressions and feature values', () => {
    let checked = 0;
    const coverage = new Coverage<FeatureValues>();
    const { bool } = expressions([...FEATURE_NAMES], ["['a', 'b']", '[1, 2, 3]', '[]']);
    fc.assert(
      fc.property(bool, fc.array(featureValues, { minLength: 1, maxLength: 10 }), (expr, values) => {
        const rules = bothWays(`version: t\nallowedLateness: 1h${CONDITION_FEATURES}labels:\n  l: { category: custom, description: d, when: ${yamlString(expr)} }\n`);
        if (!rules) return;
        checked++;
        const fast = rules.fast.labels[0]?.conditions.enter;
        const library = rules.library.labels[0]?.conditions.enter;
        for (const v of values) expect([expr, v, outcome(() => fast?.evaluate(v))]).toEqual([expr, v, outcome(() => library?.evaluate(v))]);
        const parsed = parseCel(expr);
        if (parsed.ok) coverage.add(compileCelClosure(parsed.parsed.expr, conditionScope(expr, parsed.parsed, VAR_TYPES)), values);
      }),
      { numRuns: 600 },
    );
    // Most random expressions must get past the type check, and the closures must answer
    // a good share of evaluations themselves, or this tests little.
    expect(checked).toBeGreaterThan(300);
    expect(coverage.answered / coverage.total).toBeGreaterThan(0.3);
  });
});

describe('compiled filters', () => {
  it('give the outcome of @bufbuild/cel for random expressions and events', () => {
    let checked = 0;
    const coverage = new Coverage<EventView>();
    const lists = ['event.categories', 'event.skus', "['EUR', 'USD']", '[1, 2]'];
    const { bool } = expressions(FIELDS, lists);
    // Library sub-expressions the closures leave alone: macros over the event.
    const macros = fc.constantFrom("event.categories.exists(c, c == 'outdoor')", 'has(event.channel)', 'size(event.skus) > 1', "event.channel.startsWith('W')");
    const filter = fc.oneof(
      { weight: 4, arbitrary: bool },
      { weight: 1, arbitrary: fc.tuple(macros, fc.constantFrom('&&', '||'), bool).map(([m, op, b]) => `${m} ${op} ${parens(b)}`) },
    );
    fc.assert(
      fc.property(filter, fc.array(eventViews, { minLength: 1, maxLength: 12 }), (expr, views) => {
        const rules = bothWays(
          `version: t\nallowedLateness: 1h\nfeatures:\n  f: { event: purchase, agg: count, where: ${yamlString(expr)} }\n` +
            `labels:\n  l: { category: custom, description: d, when: "f > 0" }\n`,
        );
        if (!rules) return;
        checked++;
        const fast = rules.fast.features[0]?.where;
        const library = rules.library.features[0]?.where;
        for (const v of views) {
          expect([expr, v, outcome(() => fast?.evaluate(v))]).toEqual([expr, v, outcome(() => library?.evaluate(v))]);
          expect([expr, v, outcome(() => fast?.matches(v))]).toEqual([expr, v, outcome(() => library?.matches(v))]);
        }
        const parsed = parseCel(expr);
        if (parsed.ok) coverage.add(compileCelClosure(parsed.parsed.expr, filterScope(expr, parsed.parsed, fieldsOf('purchase'))), views);
      }),
      { numRuns: 600 },
    );
    expect(checked).toBeGreaterThan(120);
    expect(coverage.answered / coverage.total).toBeGreaterThan(0.3);
  });
});
