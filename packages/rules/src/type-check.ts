/**
 * A small static type checker for the CEL subset rules use. @bufbuild/cel 0.6 has a
 * checker but does not export it, so we check what matters for rule authors ourselves:
 * unknown identifiers, unknown event fields, unknown functions, operator type mismatches
 * (int vs string, int vs null, int + double) and non-boolean conditions — each with the
 * offset of the offending node. `dyn` (min/max/last features) passes every static check;
 * its misuse surfaces at evaluation time (see README "Null and errors").
 */
import { offsetOf, type CelExpr, type ParsedCel } from './cel';
import type { EventFieldType } from './event-fields';

/** A CEL static type as far as this checker tracks it. */
export type CelType =
  | { readonly k: 'int' | 'uint' | 'double' | 'bool' | 'string' | 'bytes' | 'null' | 'dyn' | 'map' | 'type' | 'event' }
  | { readonly k: 'list'; readonly elem: CelType };

const T = {
  int: { k: 'int' },
  uint: { k: 'uint' },
  double: { k: 'double' },
  bool: { k: 'bool' },
  string: { k: 'string' },
  bytes: { k: 'bytes' },
  null: { k: 'null' },
  dyn: { k: 'dyn' },
  map: { k: 'map' },
  type: { k: 'type' },
  event: { k: 'event' },
} as const satisfies Record<string, CelType>;

export const CEL_INT: CelType = T.int;
export const CEL_DYN: CelType = T.dyn;
export const CEL_EVENT: CelType = T.event;

/** Human name of a type, as in CEL's own messages. */
export function typeName(t: CelType): string {
  return t.k === 'list' ? `list(${typeName(t.elem)})` : t.k === 'null' ? 'null_type' : t.k;
}

/** CEL type of a flat-event field. `int?` (nullable int) is `dyn`. */
export function fieldType(t: EventFieldType): CelType {
  switch (t) {
    case 'int':
      return T.int;
    case 'int?':
      return T.dyn;
    case 'string':
      return T.string;
    case 'list<string>':
      return { k: 'list', elem: T.string };
  }
}

/** What the checker needs to know about the expression's world. */
export interface CheckContext {
  /** Top-level variables and their types. */
  readonly variables: ReadonlyMap<string, CelType>;
  /** Fields of the `event` variable (filters only). */
  readonly eventFields?: Readonly<Record<string, EventFieldType>>;
  /** Phrase naming the event type in messages, e.g. `purchase events`. */
  readonly eventDescription?: string;
  /**
   * Message for an identifier that is not a variable, or null to stay silent (the name is
   * declared but its declaration was invalid and has been reported already).
   */
  unknownIdentifier(name: string): string | null;
}

export interface TypeIssue {
  readonly message: string;
  /** 0-based offset in the expression text. */
  readonly offset: number;
}

export interface CheckResult {
  readonly type: CelType;
  readonly issues: readonly TypeIssue[];
  /** Top-level variables the expression reads (comprehension variables excluded). */
  readonly identifiers: ReadonlySet<string>;
  /** True when a silenced unknown identifier was met: the expression cannot be compiled. */
  readonly incomplete: boolean;
}

const NUMERIC = new Set(['int', 'uint', 'double']);
const ORDERED = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes']);
const CONVERSIONS: Record<string, CelType> = {
  int: T.int,
  uint: T.uint,
  double: T.double,
  string: T.string,
  bool: T.bool,
  bytes: T.bytes,
  dyn: T.dyn,
  type: T.type,
};
const STRING_METHODS = new Set(['contains', 'startsWith', 'endsWith', 'matches']);

/** Type-checks a parsed expression. Never throws; all problems are returned as issues. */
export function checkCel(parsed: ParsedCel, ctx: CheckContext): CheckResult {
  const issues: TypeIssue[] = [];
  const identifiers = new Set<string>();
  let suppressed = false;
  const at = (node: CelExpr): number => offsetOf(parsed, node);
  const issue = (node: CelExpr, message: string): CelType => {
    issues.push({ message, offset: at(node) });
    return T.dyn;
  };
  const isDyn = (t: CelType): boolean => t.k === 'dyn';

  function check(node: CelExpr | undefined, scope: ReadonlyMap<string, CelType>): CelType {
    if (!node) return T.dyn;
    const kind = node.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        const c = kind.value.constantKind;
        switch (c.case) {
          case 'nullValue':
            return T.null;
          case 'boolValue':
            return T.bool;
          case 'int64Value':
            return T.int;
          case 'uint64Value':
            return T.uint;
          case 'doubleValue':
            return T.double;
          case 'stringValue':
            return T.string;
          case 'bytesValue':
            return T.bytes;
          default:
            return issue(node, `unsupported literal`);
        }
      }
      case 'identExpr': {
        const name = kind.value.name;
        const local = scope.get(name);
        if (local) return local;
        const v = ctx.variables.get(name);
        if (v) {
          identifiers.add(name);
          return v;
        }
        const message = ctx.unknownIdentifier(name);
        if (message === null) {
          suppressed = true;
          return T.dyn;
        }
        return issue(node, message);
      }
      case 'selectExpr': {
        const operand = check(kind.value.operand, scope);
        const field = kind.value.field;
        let result: CelType = T.dyn;
        if (operand.k === 'event') {
          const ft = ctx.eventFields?.[field];
          if (ft === undefined) {
            const known = Object.keys(ctx.eventFields ?? {}).join(', ');
            return issue(node, `unknown field 'event.${field}' for ${ctx.eventDescription ?? 'these events'} (known: ${known})`);
          }
          result = fieldType(ft);
        } else if (!isDyn(operand) && operand.k !== 'map') {
          return issue(node, `cannot select field '${field}' on a value of type ${typeName(operand)}`);
        }
        return kind.value.testOnly ? T.bool : result;
      }
      case 'listExpr': {
        const elems = kind.value.elements.map((e) => check(e, scope));
        const first = elems[0];
        const same = first !== undefined && elems.every((e) => sameType(e, first));
        return { k: 'list', elem: same && first ? first : T.dyn };
      }
      case 'structExpr': {
        if (kind.value.messageName !== '') return issue(node, `message construction is not supported`);
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') check(entry.keyKind.value, scope);
          check(entry.value, scope);
        }
        return T.map;
      }
      case 'comprehensionExpr': {
        const c = kind.value;
        const range = check(c.iterRange, scope);
        let elem: CelType = T.dyn;
        if (range.k === 'list') elem = range.elem;
        else if (range.k !== 'map' && !isDyn(range)) {
          issue(c.iterRange ?? node, `cannot iterate over a value of type ${typeName(range)}`);
        }
        const inner = new Map(scope);
        inner.set(c.iterVar, elem);
        if (c.iterVar2) inner.set(c.iterVar2, T.dyn);
        const accu = check(c.accuInit, scope);
        inner.set(c.accuVar, accu);
        check(c.loopCondition, inner);
        check(c.loopStep, inner);
        return check(c.result, inner);
      }
      case 'callExpr':
        return checkCall(node, kind.value, scope);
      default:
        return issue(node, `unsupported expression`);
    }
  }

  function checkCall(
    node: CelExpr,
    call: { target?: CelExpr; function: string; args: CelExpr[] },
    scope: ReadonlyMap<string, CelType>,
  ): CelType {
    const fn = call.function;
    const target = call.target ? check(call.target, scope) : undefined;
    const args = call.args.map((a) => check(a, scope));
    const [a, b, c] = args;
    const op = fn.replace(/^_|_$/g, '').replace(/^@/, '');
    switch (fn) {
      case '_&&_':
      case '_||_':
        for (const [i, t] of args.entries()) {
          if (t.k !== 'bool' && !isDyn(t)) issue(call.args[i] ?? node, `'${op}' needs bool operands, got ${typeName(t)}`);
        }
        return T.bool;
      case '!_':
      case '@not_strictly_false':
        if (a && a.k !== 'bool' && !isDyn(a)) issue(node, `'!' needs a bool operand, got ${typeName(a)}`);
        return T.bool;
      case '-_':
        if (a && !NUMERIC.has(a.k) && !isDyn(a)) return issue(node, `cannot negate a value of type ${typeName(a)}`);
        return a ?? T.dyn;
      case '_==_':
      case '_!=_':
        if (a && b && !comparable(a, b)) {
          const hint = a.k === 'null' || b.k === 'null' ? ' (count, sum and distinct features are never null: compare with 0)' : '';
          issue(node, `no such overload: ${typeName(a)} ${op} ${typeName(b)}${hint}`);
        }
        return T.bool;
      case '_<_':
      case '_<=_':
      case '_>_':
      case '_>=_':
        if (a && b && !isDyn(a) && !isDyn(b)) {
          const ok = (NUMERIC.has(a.k) && NUMERIC.has(b.k)) || (a.k === b.k && ORDERED.has(a.k));
          if (!ok) issue(node, `no such overload: ${typeName(a)} ${op} ${typeName(b)}`);
        }
        return T.bool;
      case '_+_':
      case '_-_':
      case '_*_':
      case '_/_':
      case '_%_':
        return arithmetic(node, op, a ?? T.dyn, b ?? T.dyn);
      case '_?_:_':
        if (a && a.k !== 'bool' && !isDyn(a)) issue(call.args[0] ?? node, `condition of '?:' must be bool, got ${typeName(a)}`);
        return b && c && sameType(b, c) ? b : T.dyn;
      case '_[_]':
        if (a?.k === 'list') return a.elem;
        if (a && a.k !== 'map' && !isDyn(a)) return issue(node, `cannot index a value of type ${typeName(a)}`);
        return T.dyn;
      case '@in':
        if (b && b.k !== 'list' && b.k !== 'map' && !isDyn(b)) issue(node, `'in' needs a list or map on the right, got ${typeName(b)}`);
        return T.bool;
      case 'size': {
        const x = target ?? a;
        if (x && !['string', 'bytes', 'list', 'map', 'dyn'].includes(x.k)) issue(node, `size() of a value of type ${typeName(x)}`);
        return T.int;
      }
      default:
        break;
    }
    if (!target && fn in CONVERSIONS) return CONVERSIONS[fn] as CelType;
    if (target && STRING_METHODS.has(fn)) {
      if (target.k !== 'string' && !isDyn(target)) issue(node, `${fn}() needs a string receiver, got ${typeName(target)}`);
      if (a && a.k !== 'string' && !isDyn(a)) issue(node, `${fn}() needs a string argument, got ${typeName(a)}`);
      return T.bool;
    }
    return issue(node, `unknown function '${fn}'`);
  }

  function arithmetic(node: CelExpr, op: string, a: CelType, b: CelType): CelType {
    if (isDyn(a) || isDyn(b)) return T.dyn;
    if (op === '+' && a.k === 'string' && b.k === 'string') return T.string;
    if (op === '+' && a.k === 'list' && b.k === 'list') return sameType(a, b) ? a : { k: 'list', elem: T.dyn };
    if (NUMERIC.has(a.k) && a.k === b.k) {
      if (op === '%' && a.k === 'double') return issue(node, `no such overload: double % double`);
      return a;
    }
    if (NUMERIC.has(a.k) && NUMERIC.has(b.k)) {
      return issue(node, `no such overload: ${typeName(a)} ${op} ${typeName(b)} (CEL never converts implicitly: use double(x) or int(x))`);
    }
    return issue(node, `no such overload: ${typeName(a)} ${op} ${typeName(b)}`);
  }

  const type = check(parsed.expr, new Map());
  return { type, issues, identifiers, incomplete: suppressed };
}

function sameType(a: CelType, b: CelType): boolean {
  if (a.k === 'list' && b.k === 'list') return sameType(a.elem, b.elem);
  return a.k === b.k;
}

/** Whether `==` between the two static types can ever be well-typed. */
function comparable(a: CelType, b: CelType): boolean {
  if (a.k === 'dyn' || b.k === 'dyn') return true;
  if (NUMERIC.has(a.k) && NUMERIC.has(b.k)) return true;
  if (a.k === 'null' || b.k === 'null') return a.k === b.k || a.k === 'map' || b.k === 'map';
  if (a.k === 'list' && b.k === 'list') return true;
  return a.k === b.k;
}
