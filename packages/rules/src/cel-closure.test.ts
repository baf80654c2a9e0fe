import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { parseCel, type CelVarType } from './cel';
import { conditionScope, filterScope } from './cel-bindings';
import { BAIL, compileCelClosure, type ClosureScope } from './cel-closure';
import { loadRules } from './compile';
import { fieldsOf, type EventView } from './event-fields';
import type { CompiledRules, FeatureValues } from './types';

const ROOT = resolve(__dirname, '../../..');
const FILES = ['rules/default.yaml', 'rules/demo.yaml', 'bench/timer-rules.yaml'];

/** The scope, with library sub-expressions counted. */
function counting<S>(scope: ClosureScope<S>, fallbacks: string[]): ClosureScope<S> {
  return {
    ...scope,
    fallback: (node) => {
      fallbacks.push(String(node.id));
      return scope.fallback(node);
    },
  };
}

function outcome(run: () => unknown): unknown {
  try {
    return { result: run() };
  } catch (e) {
    return { threw: String(e) };
  }
}

describe.each(FILES)('%s', (relative) => {
  const text = readFileSync(resolve(ROOT, relative), 'utf8');
  const fast = loadRules(text, { source: relative });
  const library = loadRules(text, { source: relative, compileExpressions: false });
  const varTypes = (rules: CompiledRules): Record<string, CelVarType> =>
    Object.fromEntries(rules.features.map((f) => [f.name, f.valueType]));

  it('compiles every condition and filter entirely into closures (no library sub-expression)', () => {
    for (const label of fast.labels) {
      for (const c of [label.conditions.enter, label.conditions.exit]) {
        if (!c) continue;
        const parsed = parseCel(c.source);
        if (!parsed.ok) throw new Error(c.source);
        const fallbacks: string[] = [];
        const closure = compileCelClosure(parsed.parsed.expr, counting(conditionScope(c.source, parsed.parsed, varTypes(fast)), fallbacks));
        expect([c.source, closure !== undefined, fallbacks]).toEqual([c.source, true, []]);
      }
    }
    for (const f of fast.features) {
      if (!f.where) continue;
      const parsed = parseCel(f.where.source);
      if (!parsed.ok) throw new Error(f.where.source);
      const fallbacks: string[] = [];
      const closure = compileCelClosure(parsed.parsed.expr, counting(filterScope(f.where.source, parsed.parsed, fieldsOf(f.event)), fallbacks));
      expect([f.where.source, closure !== undefined, fallbacks]).toEqual([f.where.source, true, []]);
    }
  });

  it('evaluates every condition as @bufbuild/cel does', () => {
    const count = fc.oneof(fc.nat(20), fc.nat(200_000), fc.constantFrom(2 ** 53, 2 ** 63, -1, 1.5, Number.NaN));
    const last = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 6 }), fc.constantFrom(4.5, 'x', 2 ** 63));
    const values = fc.record(
      Object.fromEntries(fast.features.map((f) => [f.name, f.valueType === 'int' ? count : last])) as Record<string, fc.Arbitrary<FeatureValues[string]>>,
      { requiredKeys: [] },
    ) as fc.Arbitrary<FeatureValues>;
    fc.assert(
      fc.property(values, (v) => {
        fast.labels.forEach((label, i) => {
          const other = library.labels[i];
          expect(outcome(() => label.conditions.enter.evaluate(v))).toEqual(outcome(() => other?.conditions.enter.evaluate(v)));
          expect(outcome(() => label.conditions.exit?.evaluate(v))).toEqual(outcome(() => other?.conditions.exit?.evaluate(v)));
          expect(outcome(() => [label.enter(v), label.exit(v)])).toEqual(outcome(() => [other?.enter(v), other?.exit(v)]));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('evaluates every filter as @bufbuild/cel does', () => {
    const view: fc.Arbitrary<EventView> = fc.record(
      {
        categories: fc.oneof(fc.array(fc.constantFrom('outdoor', 'apparel'), { maxLength: 3 }), fc.constantFrom(null, 'outdoor')),
        satisfactionScore: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 5 }), fc.constantFrom(2.5, 'x')),
        amountMinorBase: fc.oneof(fc.nat(20_000), fc.constant(2 ** 63)),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<EventView>;
    fc.assert(
      fc.property(view, (v) => {
        fast.features.forEach((f, i) => {
          const other = library.features[i]?.where;
          expect(outcome(() => f.where?.evaluate(v))).toEqual(outcome(() => other?.evaluate(v)));
          expect(outcome(() => f.where?.matches(v))).toEqual(outcome(() => other?.matches(v)));
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('closures', () => {
  const closure = (source: string, varTypes: Record<string, CelVarType>) => {
    const parsed = parseCel(source);
    if (!parsed.ok) throw new Error(source);
    return compileCelClosure(parsed.parsed.expr, conditionScope(source, parsed.parsed, varTypes));
  };

  it('answer within the int range exactly and bail outside it (the library decides overflow)', () => {
    const c = closure('2 * n >= 7 * m', { n: 'int', m: 'int' });
    expect(c?.({ n: 7, m: 2 })).toBe(true);
    expect(c?.({ n: 2 ** 52, m: 0 })).toBe(BAIL);
  });

  it('absorb errors in && and || as CEL does: false && error = false, true || error = true', () => {
    const and = closure('x >= 4 && n > 0', { x: 'dyn', n: 'int' });
    expect(and?.({ x: null, n: 0 })).toBe(false);
    expect(and?.({ x: null, n: 1 })).toBe(BAIL);
    const or = closure('x >= 4 || n > 0', { x: 'dyn', n: 'int' });
    expect(or?.({ x: null, n: 1 })).toBe(true);
    expect(or?.({ x: null, n: 0 })).toBe(BAIL);
  });

  it('leave literals outside the domain (double, uint, bytes, large ints) to the library', () => {
    expect(closure('x > 1.5', { x: 'dyn' })).toBeUndefined();
    expect(closure('x > 3u', { x: 'dyn' })).toBeUndefined();
    expect(closure('x < 9223372036854775807', { x: 'dyn' })).toBeUndefined();
    expect(closure('size(x)', { x: 'dyn' })).toBeUndefined();
  });

  it('run other nodes as library sub-expressions, bailing on their errors', () => {
    const c = closure('size(x) > 1', { x: 'dyn' });
    expect(c?.({ x: 'abc' })).toBe(true);
    expect(c?.({ x: 1 })).toBe(BAIL);
  });
});
