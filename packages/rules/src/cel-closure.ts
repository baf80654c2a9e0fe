/**
 * Compiles the CEL subset that rules use into plain JavaScript closures, once, at rules
 * compile time. The closures are built from the library's AST (no code generation: no
 * expression text ever becomes code) and are a fast path only: whenever a closure cannot
 * give exactly the answer @bufbuild/cel would give — an evaluation error, or a value outside
 * its small domain — it returns {@link BAIL} and the caller runs the library instead. So the
 * library stays the single source of truth for every error and its message, and the fast
 * path only has to be right about the values it does return.
 *
 * Value domain of the closures: CEL `int` as a JS number that is a safe integer (|n| < 2^53,
 * so int64 arithmetic is exact while results stay in that range; outside it they bail),
 * `string`, `bool`, `null`, and lists as JS arrays (read only). `double`, `uint`, `bytes`,
 * maps and larger ints are never produced: they bail.
 *
 * Compiled: literals of that domain, list literals, variables and `event.field` (through a
 * {@link ClosureScope}), `!`, `&&`, `||` (with CEL's error absorption), `? :`, `==`, `!=`,
 * `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, unary `-` and `in` over a list. Any other
 * node (macros such as `exists` and `has`, function and method calls, index, maps) is
 * evaluated by the library as a sub-expression, its result brought into the domain (or
 * bailing when it is not).
 */
import type { CelExpr, CelOutcome } from './cel';

/**
 * What a closure returns when the library must answer instead: an evaluation error, or a
 * value the closures do not represent.
 */
export const BAIL: unique symbol = Symbol('cel-bail');

/** A compiled (sub-)expression over a source `S` (feature values, or an event view). Returns a domain value or {@link BAIL}; never throws. */
export type CelClosure<S> = (src: S) => unknown;

/** How the compiler reaches the world outside the expression. */
export interface ClosureScope<S> {
  /** Reader for a top-level identifier (in the domain, or BAIL), or undefined to leave it to the library. */
  variable(name: string): CelClosure<S> | undefined;
  /** Reader for `variable.field`, or undefined to leave it to the library. */
  field(variable: string, field: string): CelClosure<S> | undefined;
  /** The library's evaluation of a sub-expression the closures do not compile. */
  fallback(node: CelExpr): (src: S) => CelOutcome;
}

/** Thrown inside the compiler when the expression is not worth compiling (a literal outside the domain). */
class NotCompiled extends Error {}

/**
 * Compiles an expression to a closure, or returns undefined when the root itself is not in
 * the compiled subset (then the library alone should evaluate it).
 */
export function compileCelClosure<S>(expr: CelExpr, scope: ClosureScope<S>): CelClosure<S> | undefined {
  try {
    return new ClosureCompiler(scope).compile(expr, true);
  } catch {
    // NotCompiled, or the library refusing to plan a sub-expression of a tree it planned
    // whole (not seen): either way the library alone evaluates, as without closures.
    return undefined;
  }
}

/** Brings a library value into the closure domain (or BAIL). */
export function fromLibraryValue(v: unknown): unknown {
  switch (typeof v) {
    case 'bigint':
      return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : BAIL;
    case 'boolean':
    case 'string':
      return v;
    default:
      return v === null ? null : BAIL;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An int of the domain (the only numbers the closures ever hold). */
function isInt(v: unknown): v is number {
  return typeof v === 'number';
}

/** A scalar of the domain (not a list). */
function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** An integer result, or BAIL when it left the exactly representable range. */
function exact(n: number): number | typeof BAIL {
  return Number.isSafeInteger(n) ? n : BAIL;
}

type Binary = (l: unknown, r: unknown) => unknown;

// CEL heterogeneous equality restricted to domain scalars: equal types compare by value,
// different types are unequal (int vs double never meet: doubles bail). Lists bail.
const eq: Binary = (l, r) => (isScalar(l) && isScalar(r) ? l === r : BAIL);
const ne: Binary = (l, r) => (isScalar(l) && isScalar(r) ? l !== r : BAIL);

/** An ordering operator over int/int, string/string and bool/bool (CEL's overloads within the domain); other pairs bail (the library reports "no such overload"). */
function ordering(cmp: (l: number | string | boolean, r: number | string | boolean) => boolean): Binary {
  return (l, r) => {
    const t = typeof l;
    if (t !== typeof r || (t !== 'number' && t !== 'string' && t !== 'boolean')) return BAIL;
    return cmp(l as number, r as number);
  };
}

const BINARY: Readonly<Record<string, Binary>> = {
  '_==_': eq,
  '_!=_': ne,
  '_<_': ordering((l, r) => l < r),
  '_<=_': ordering((l, r) => l <= r),
  '_>_': ordering((l, r) => l > r),
  '_>=_': ordering((l, r) => l >= r),
  '_+_': (l, r) => (isInt(l) && isInt(r) ? exact(l + r) : typeof l === 'string' && typeof r === 'string' ? l + r : BAIL),
  '_-_': (l, r) => (isInt(l) && isInt(r) ? exact(l - r) : BAIL),
  '_*_': (l, r) => (isInt(l) && isInt(r) ? exact(l * r) : BAIL),
  // Truncating division, exact on safe integers (l - l % r is a multiple of r); by zero: the library's error.
  '_/_': (l, r) => (isInt(l) && isInt(r) && r !== 0 ? (l - (l % r)) / r : BAIL),
  '_%_': (l, r) => (isInt(l) && isInt(r) && r !== 0 ? l % r : BAIL),
  // CEL `in` over a list is "some element equals": for a scalar needle and domain elements
  // (or event view elements: strings, or JS numbers compared numerically) that is includes().
  '@in': (l, r) => (Array.isArray(r) && l !== null && isScalar(l) ? r.includes(l) : BAIL),
};

class ClosureCompiler<S> {
  constructor(private readonly scope: ClosureScope<S>) {}

  /** The closure for a node; unsupported nodes become library sub-expressions, except at the root. */
  compile(node: CelExpr, root = false): CelClosure<S> {
    const direct = this.direct(node);
    if (direct) return direct;
    if (root) throw new NotCompiled();
    const run = this.scope.fallback(node);
    return (src) => {
      const out = run(src);
      return out.ok ? fromLibraryValue(out.value) : BAIL;
    };
  }

  private direct(node: CelExpr): CelClosure<S> | undefined {
    const kind = node.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        const value = constant(kind.value.constantKind);
        return () => value;
      }
      case 'identExpr':
        return this.scope.variable(kind.value.name);
      case 'selectExpr': {
        const operand = kind.value.operand?.exprKind;
        if (kind.value.testOnly || operand?.case !== 'identExpr') return undefined;
        return this.scope.field(operand.value.name, kind.value.field);
      }
      case 'listExpr': {
        if (kind.value.optionalIndices.length > 0) return undefined;
        const elements = kind.value.elements.map((e) => this.compile(e));
        return (src) => {
          const out: unknown[] = [];
          for (const e of elements) {
            const v = e(src);
            if (v === BAIL) return BAIL;
            out.push(v);
          }
          return out;
        };
      }
      case 'callExpr':
        if (kind.value.target !== undefined) return undefined;
        return this.call(kind.value.function, kind.value.args);
      default:
        return undefined;
    }
  }

  private call(fn: string, argNodes: readonly CelExpr[]): CelClosure<S> | undefined {
    if (fn === '_&&_' || fn === '_||_') {
      if (argNodes.length < 2) return undefined;
      return logic(fn === '_&&_', argNodes.map((a) => this.compile(a)));
    }
    if (fn === '!_' && argNodes.length === 1) {
      const a = this.compile(argNodes[0] as CelExpr);
      return (src) => {
        const v = a(src);
        return v === true ? false : v === false ? true : BAIL;
      };
    }
    if (fn === '-_' && argNodes.length === 1) {
      const a = this.compile(argNodes[0] as CelExpr);
      return (src) => {
        const v = a(src);
        return isInt(v) ? -v : BAIL;
      };
    }
    if (fn === '_?_:_' && argNodes.length === 3) {
      const [c, t, f] = argNodes.map((a) => this.compile(a)) as [CelClosure<S>, CelClosure<S>, CelClosure<S>];
      return (src) => {
        const v = c(src);
        return v === true ? t(src) : v === false ? f(src) : BAIL;
      };
    }
    const op = BINARY[fn];
    if (op === undefined || argNodes.length !== 2) return undefined;
    const l = this.compile(argNodes[0] as CelExpr);
    const r = this.compile(argNodes[1] as CelExpr);
    return (src) => {
      const a = l(src);
      if (a === BAIL) return BAIL;
      const b = r(src);
      return b === BAIL ? BAIL : op(a, b);
    };
  }
}

/**
 * `&&` / `||` as the library evaluates them (all arguments, left to right): the absorbing
 * value (`false` for and, `true` for or) wins over errors and non-bools on either side;
 * otherwise any error or non-bool makes the result an error (here: BAIL).
 */
function logic<S>(and: boolean, args: readonly CelClosure<S>[]): CelClosure<S> {
  const absorbing = !and;
  if (args.length === 2) {
    const [a, b] = args as [CelClosure<S>, CelClosure<S>];
    return (src) => {
      const x = a(src);
      if (x === absorbing) return absorbing;
      const y = b(src);
      if (y === absorbing) return absorbing;
      return x === and && y === and ? and : BAIL;
    };
  }
  return (src) => {
    let failed = false;
    for (const a of args) {
      const v = a(src);
      if (v === absorbing) return absorbing;
      if (v !== and) failed = true;
    }
    return failed ? BAIL : and;
  };
}

/** A literal as a domain value; other literals make the whole expression uncompiled. */
function constant(c: Extract<CelExpr['exprKind'], { case: 'constExpr' }>['value']['constantKind']): unknown {
  switch (c.case) {
    case 'nullValue':
      return null;
    case 'boolValue':
    case 'stringValue':
      return c.value;
    case 'int64Value': {
      const v = fromLibraryValue(c.value);
      if (v === BAIL) throw new NotCompiled();
      return v;
    }
    default:
      throw new NotCompiled();
  }
}
