/**
 * The one module that talks to the CEL library (@bufbuild/cel). Everything else in the
 * rules package works with {@link CelProgram}s, so switching libraries touches this file
 * and `type-check.ts` only. Why this library: see the package README ("CEL library").
 */
import { celEnv, CelScalar, isCelError, mapType, parse, plan, unparse } from '@bufbuild/cel';

/** The parsed form produced by the library. */
export type ParsedCel = ReturnType<typeof parse>;
/** One node of the library's AST (the cel.expr.Expr proto). */
export type CelExpr = ParsedCel['expr'];

/** A syntax error with its 0-based offset in the expression text. */
export interface CelSyntaxError {
  readonly message: string;
  readonly offset: number;
}

/** Parses CEL text; returns the AST or a syntax error with an offset. Never throws. */
export function parseCel(source: string): { ok: true; parsed: ParsedCel } | { ok: false; error: CelSyntaxError } {
  try {
    return { ok: true, parsed: parse(source) };
  } catch (e) {
    const loc = (e as { location?: { start?: { offset?: number } } }).location;
    const raw = e instanceof Error ? e.message : String(e);
    // The library prefixes "<input>:line:col: "; we report our own position instead.
    const message = raw.replace(/^<input>:\d+:\d+:\s*/, '');
    return { ok: false, error: { message: `syntax error: ${message}`, offset: loc?.start?.offset ?? 0 } };
  }
}

/** Canonical text of a parsed expression (whitespace, quotes and redundant parentheses normalised). */
export function normaliseCel(parsed: ParsedCel): string {
  return unparse(parsed);
}

/** 0-based offset of an AST node in its expression text (0 when unknown). */
export function offsetOf(parsed: ParsedCel, node: CelExpr): number {
  const positions = parsed.sourceInfo?.positions as Record<string, number> | undefined;
  return positions?.[String(node.id)] ?? 0;
}

/** Result of running a program: a value, or an evaluation error message. */
export type CelOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** A planned CEL expression, ready to run many times. Evaluation is pure and never throws. */
export interface CelProgram {
  readonly source: string;
  run(bindings: Readonly<Record<string, unknown>>): CelOutcome;
}

/** Declared CEL type of a top-level variable. */
export type CelVarType = 'int' | 'dyn' | 'event';

/**
 * Plans a parsed expression against declared variables. The bindings passed to `run` must
 * follow the library's value mapping: CEL int = bigint, string, boolean, null, arrays for
 * lists and `Map` for maps (the `event` variable).
 */
export function planCel(source: string, parsed: ParsedCel, variables: Readonly<Record<string, CelVarType>>): CelProgram {
  const decl: Record<string, typeof CelScalar.INT | typeof CelScalar.DYN | ReturnType<typeof mapType>> = {};
  for (const [name, type] of Object.entries(variables)) {
    decl[name] = type === 'int' ? CelScalar.INT : type === 'dyn' ? CelScalar.DYN : mapType(CelScalar.STRING, CelScalar.DYN);
  }
  const program = plan(celEnv({ variables: decl }), parsed) as (ctx: Record<string, unknown>) => unknown;
  return {
    source,
    run(bindings) {
      try {
        const value = program(bindings as Record<string, unknown>);
        if (isCelError(value)) return { ok: false, error: value.message };
        return { ok: true, value };
      } catch (e) {
        // The library reports evaluation errors as values; a throw is a library bug, but a
        // rule must never take the evaluator down with it.
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    },
  };
}
