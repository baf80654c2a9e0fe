/**
 * Rules file text → {@link CompiledRules}: YAML parse, structural validation (zod), then
 * semantic validation and compilation of every feature, filter, label and group. All
 * problems are collected (not just the first) with their file positions.
 */
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { normaliseCel, parseCel, planCel, type CelVarType, type ParsedCel } from './cel';
import { conditionScope, eventBinding, featureBindings, featuresBindable, filterScope, viewBindable } from './cel-bindings';
import { compileCelClosure } from './cel-closure';
import { DURATION_GRAMMAR, formatDuration, parseDuration } from '@labelstream/duration';
import { defaultBucketMs } from './duration';
import { RulesError, type RuleIssue } from './errors';
import { fieldsOf, type EventFieldType, type EventView, type FeatureEvent } from './event-fields';
import { z } from 'zod';
import {
  featureSchema,
  groupSchema,
  labelSchema,
  NAME_PATTERN,
  rulesFileSchema,
  type LabelCategory,
  type RawFeature,
  type RawGroup,
  type RawLabel,
  type RulesFile,
} from './schema';
import { SourceMap } from './source-map';
import { CEL_DYN, CEL_EVENT, CEL_INT, checkCel, type CelType } from './type-check';
import type {
  CompiledCondition,
  CompiledFilter,
  CompiledGroup,
  CompiledLabel,
  CompiledRules,
  ConditionOutcome,
  FeatureDef,
  FeatureValues,
} from './types';

/** Options for {@link loadRules} and {@link parseRules}. */
export interface LoadRulesOptions {
  /** Name used in messages and `CompiledRules.source` (e.g. the file path). */
  readonly source?: string;
  /**
   * Compile conditions and filters into JavaScript closures (default true). Off, every
   * evaluation runs @bufbuild/cel; results are the same either way (see `cel-closure.ts`),
   * so this exists to measure and to cross-check.
   */
  readonly compileExpressions?: boolean;
}

/** Result of {@link parseRules}: compiled rules, or every problem found. */
export type ParseRulesResult =
  | { readonly ok: true; readonly rules: CompiledRules }
  | { readonly ok: false; readonly issues: readonly RuleIssue[] };

/** Words CEL reserves (they cannot be variable names), plus our own `event`. */
const RESERVED = new Set([
  'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop',
  'package', 'namespace', 'return', 'var', 'void', 'while', 'true', 'false', 'null', 'event',
]);

/**
 * Validates and compiles a rules file.
 * @throws RulesError listing every problem when the file is not valid.
 * @example
 * const rules = loadRules(fs.readFileSync('rules/default.yaml', 'utf8'), { source: 'rules/default.yaml' });
 */
export function loadRules(text: string, options: LoadRulesOptions = {}): CompiledRules {
  const result = parseRules(text, options);
  if (!result.ok) throw new RulesError(result.issues, options.source ?? '<rules>');
  return result.rules;
}

/** Like {@link loadRules}, but returns the problems instead of throwing. */
export function parseRules(text: string, options: LoadRulesOptions = {}): ParseRulesResult {
  const source = options.source ?? '<rules>';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(doc, lines, text);
  const issues: RuleIssue[] = [];

  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    issues.push({ path: '(yaml)', message: err.message.split('\n')[0] ?? err.message, line: pos.line, column: pos.col });
  }
  if (issues.length > 0) return { ok: false, issues };

  const data: unknown = doc.toJS();
  const top = validate(rulesFileSchema, data ?? {}, [], map, issues);
  if (!top) return { ok: false, issues };
  const file: StructuredFile = {
    ...top,
    features: validateEntries(featureSchema, top.features, 'features', map, issues),
    labels: validateEntries(labelSchema, top.labels, 'labels', map, issues),
    groups: validateEntries(groupSchema, top.groups, 'groups', map, issues),
  };

  const compiler = new Compiler(file, map, issues, options.compileExpressions ?? true);
  const rules = compiler.compile(source, canonicalHash(data));
  return issues.length > 0 || !rules ? { ok: false, issues } : { ok: true, rules };
}

/** The file after structural validation; entries that failed it are kept as null (their names are still declared). */
interface StructuredFile {
  readonly version: string;
  readonly allowedLateness: string;
  readonly features: Readonly<Record<string, RawFeature | null>>;
  readonly labels: Readonly<Record<string, RawLabel | null>>;
  readonly groups: Readonly<Record<string, RawGroup | null>>;
  readonly lint?: RulesFile['lint'];
}

function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  base: readonly string[],
  map: SourceMap,
  issues: RuleIssue[],
): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const zi of parsed.error.issues) {
    const path = [...base, ...zi.path.map(String)];
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys) {
        const at = map.keyPosition([...path, key]);
        issues.push(withLabel({ path: [...path, key].join('.'), message: `unknown key '${key}'`, ...at }, path));
      }
      continue;
    }
    const at = map.position(path);
    issues.push(withLabel({ path: path.join('.') || '(root)', message: zi.message, ...at }, path));
  }
  return undefined;
}

function validateEntries<S extends z.ZodType>(
  schema: S,
  entries: Readonly<Record<string, unknown>>,
  section: string,
  map: SourceMap,
  issues: RuleIssue[],
): Record<string, z.output<S> | null> {
  const out: Record<string, z.output<S> | null> = {};
  for (const [name, value] of Object.entries(entries)) out[name] = validate(schema, value, [section, name], map, issues) ?? null;
  return out;
}

function withLabel(issue: RuleIssue, path: readonly string[]): RuleIssue {
  return path[0] === 'labels' && path[1] !== undefined ? { ...issue, label: path[1] } : issue;
}

/** sha-256 over the data with object keys sorted: comments and formatting do not change it. */
function canonicalHash(data: unknown): string {
  return createHash('sha256').update(canonicalJson(data)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

class Compiler {
  private readonly featureTypes = new Map<string, CelType>();
  private readonly featureVarTypes: Record<string, CelVarType> = {};

  constructor(
    private readonly file: StructuredFile,
    private readonly map: SourceMap,
    private readonly issues: RuleIssue[],
    private readonly compileExpressions: boolean,
  ) {}

  compile(source: string, hash: string): CompiledRules | undefined {
    const allowedLatenessMs = this.duration(['allowedLateness'], this.file.allowedLateness);
    const features = this.compileFeatures();
    const groupOf = this.checkGroups();
    const labels = this.compileLabels(groupOf);
    const groups: CompiledGroup[] = [];
    for (const [name, g] of Object.entries(this.file.groups)) {
      if (g) groups.push({ name, exclusive: g.exclusive, priority: [...g.priority], description: g.description ?? null });
    }
    if (Object.keys(this.file.labels).length === 0) this.issue(['labels'], 'define at least one label');
    if (this.issues.length > 0 || allowedLatenessMs === undefined) return undefined;
    return Object.freeze({
      version: this.file.version,
      allowedLatenessMs,
      features,
      labels,
      groups,
      hash,
      source,
      lint: { ...this.file.lint },
    });
  }

  private compileFeatures(): FeatureDef[] {
    const out: FeatureDef[] = [];
    for (const [name, raw] of Object.entries(this.file.features)) {
      const path = ['features', name];
      if (!this.checkName(path, name, 'feature') || !raw) continue;
      const def = this.compileFeature(name, raw, path);
      if (!def) continue;
      out.push(def);
      this.featureTypes.set(name, def.valueType === 'int' ? CEL_INT : CEL_DYN);
      this.featureVarTypes[name] = def.valueType;
    }
    assignStorageKeys(out);
    return out;
  }

  private compileFeature(name: string, raw: RawFeature, path: string[]): FeatureDef | undefined {
    const before = this.issues.length;
    const event = raw.event as FeatureEvent;
    const agg = raw.agg;
    const fields = fieldsOf(event);
    let fieldType: EventFieldType | null = null;
    if (agg === 'count') {
      if (raw.field !== undefined) this.issue([...path, 'field'], `'count' takes no field (use 'where' to count only some events)`);
    } else if (raw.field === undefined) {
      this.issue(path, `'${agg}' needs a 'field'`);
    } else {
      const ft = fields[raw.field];
      if (ft === undefined) {
        this.issue([...path, 'field'], `field '${raw.field}' does not exist on ${describeEvent(event)} (known: ${Object.keys(fields).join(', ')})`);
      } else if ((agg === 'sum' || agg === 'min' || agg === 'max') && ft !== 'int' && ft !== 'int?') {
        this.issue([...path, 'field'], `'${agg}' needs a numeric field; '${raw.field}' is ${ft}`);
      } else if (agg === 'last' && ft === 'list<string>') {
        this.issue([...path, 'field'], `'last' needs a single-valued field; '${raw.field}' is a list (use 'distinct')`);
      } else {
        fieldType = ft;
      }
    }

    let windowMs: number | null = null;
    if (raw.window !== undefined && raw.window !== 'lifetime') {
      windowMs = this.duration([...path, 'window'], raw.window) ?? null;
    }
    let bucketMs = windowMs === null ? 0 : defaultBucketMs(windowMs);
    if (raw.bucket !== undefined) {
      if (windowMs === null && (raw.window === undefined || raw.window === 'lifetime')) {
        this.issue([...path, 'bucket'], `a lifetime feature has no buckets; remove 'bucket' or give a 'window'`);
      } else {
        const b = this.duration([...path, 'bucket'], raw.bucket);
        if (b !== undefined && windowMs !== null && b > windowMs) {
          this.issue([...path, 'bucket'], `bucket ${raw.bucket} is longer than the window ${formatDuration(windowMs)}`);
        } else if (b !== undefined) bucketMs = b;
      }
    }

    let where: CompiledFilter | null = null;
    if (raw.where !== undefined) where = this.compileFilter([...path, 'where'], raw.where, event);
    if (this.issues.length > before) return undefined;
    return {
      name,
      event,
      agg,
      field: raw.field ?? null,
      fieldType,
      windowMs,
      bucketMs,
      where,
      valueType: agg === 'count' || agg === 'sum' || agg === 'distinct' ? 'int' : 'dyn',
      storageKey: '',
      description: raw.description ?? null,
    };
  }

  private compileFilter(path: string[], source: string, event: FeatureEvent): CompiledFilter | null {
    const fields = fieldsOf(event);
    const parsed = this.parseExpr(path, source);
    if (!parsed) return null;
    const result = checkCel(parsed, {
      variables: new Map([['event', CEL_EVENT]]),
      eventFields: fields,
      eventDescription: describeEvent(event),
      unknownIdentifier: (n) => `unknown identifier '${n}' (a filter sees only 'event', e.g. event.${Object.keys(fields)[0]})`,
    });
    if (!this.reportCheck(path, result, 'filter')) return null;
    const program = planCel(source, parsed, { event: 'event' });
    const library = (view: EventView): { matches: boolean; error?: string } => {
      const out = program.run({ event: eventBinding(view, fields) });
      if (!out.ok) return { matches: false, error: out.error };
      return { matches: out.value === true };
    };
    const closure = this.compileExpressions ? compileCelClosure(parsed.expr, filterScope(source, parsed, fields)) : undefined;
    if (!closure) return { source, evaluate: library, matches: (view) => library(view).matches };
    // The closure answers when it can (a bool); otherwise (errors, other values, views the
    // library's binding throws on) the library does.
    const bindable = viewBindable(fields);
    const evaluate = (view: EventView): { matches: boolean; error?: string } => {
      const v = bindable(view) ? closure(view) : undefined;
      return v === true ? MATCHES : v === false ? NO_MATCH : library(view);
    };
    const matches = (view: EventView): boolean => {
      const v = bindable(view) ? closure(view) : undefined;
      return v === true ? true : v === false ? false : library(view).matches;
    };
    return { source, evaluate, matches };
  }

  /** Returns label name → exclusive group name; reports bad group definitions. */
  private checkGroups(): Map<string, string> {
    const groupOf = new Map<string, string>();
    for (const [name, group] of Object.entries(this.file.groups)) {
      const path = ['groups', name];
      this.checkName(path, name, 'group');
      if (!group) continue;
      const seen = new Set<string>();
      group.priority.forEach((member, i) => {
        const at = [...path, 'priority', String(i)];
        if (!(member in this.file.labels)) {
          this.issue(at, `group '${name}' lists '${member}', which is not a label`);
          return;
        }
        if (seen.has(member)) this.issue(at, `'${member}' is listed twice in group '${name}'`);
        seen.add(member);
        if (!group.exclusive) return;
        const other = groupOf.get(member);
        if (other !== undefined && other !== name) {
          this.issue(at, `label '${member}' is in two exclusive groups ('${other}' and '${name}')`, member);
        } else groupOf.set(member, name);
      });
    }
    return groupOf;
  }

  private compileLabels(groupOf: Map<string, string>): CompiledLabel[] {
    const out: CompiledLabel[] = [];
    for (const [name, raw] of Object.entries(this.file.labels)) {
      const path = ['labels', name];
      if (!this.checkName(path, name, 'label') || !raw) continue;
      const label = this.compileLabel(name, raw, path, groupOf.get(name) ?? null);
      if (label) out.push(label);
    }
    return out;
  }

  private compileLabel(name: string, raw: RawLabel, path: string[], group: string | null): CompiledLabel | undefined {
    const before = this.issues.length;
    if (raw.when !== undefined && (raw.enter !== undefined || raw.exit !== undefined)) {
      this.issue([...path, raw.enter !== undefined ? 'enter' : 'exit'], `use either 'when' or 'enter'/'exit', not both`, name);
    }
    if (raw.when === undefined && raw.enter === undefined) {
      this.issue(path, raw.exit !== undefined ? `'exit' needs an 'enter'` : `a label needs 'when' (or 'enter' and optionally 'exit')`, name);
    }
    const enterKey = raw.when !== undefined ? 'when' : 'enter';
    const enterSrc = raw.when ?? raw.enter;
    const enter = enterSrc !== undefined ? this.compileCondition([...path, enterKey], enterSrc, name) : undefined;
    const exit = raw.exit !== undefined && raw.when === undefined ? this.compileCondition([...path, 'exit'], raw.exit, name) : null;
    const minDwellMs = raw.minDwell !== undefined ? this.duration([...path, 'minDwell'], raw.minDwell) : 0;
    if (this.issues.length > before || !enter || exit === undefined || minDwellMs === undefined) return undefined;

    const referencedFeatures = [...new Set([...enter.referencedFeatures, ...(exit?.referencedFeatures ?? [])])];
    return {
      name,
      category: raw.category as LabelCategory,
      description: raw.description,
      enter: (f) => enter.evaluate(f).holds,
      // Default exit: "enter does not hold" — an enter that fails to evaluate counts as not holding.
      exit: exit ? (f) => exit.evaluate(f).holds : (f) => !enter.evaluate(f).holds,
      conditions: { enter, exit },
      minDwellMs,
      whileWarming: raw.whileWarming ?? 'decide',
      referencedFeatures,
      sourceText: this.map.pairText(path),
      group,
    };
  }

  private compileCondition(path: string[], source: string, label: string): CompiledCondition | undefined {
    const parsed = this.parseExpr(path, source, label);
    if (!parsed) return undefined;
    const result = checkCel(parsed, {
      variables: this.featureTypes,
      unknownIdentifier: (n) =>
        n in this.file.features ? null : `unknown feature '${n}' (declared: ${Object.keys(this.file.features).join(', ') || 'none'})`,
    });
    if (!this.reportCheck(path, result, 'condition', label) || result.incomplete) return undefined;
    const referenced = [...result.identifiers];
    const varTypes: Record<string, CelVarType> = {};
    for (const f of referenced) varTypes[f] = this.featureVarTypes[f] ?? 'dyn';
    const program = planCel(source, parsed, varTypes);
    const library = (features: FeatureValues): ConditionOutcome => {
      const out = program.run(featureBindings(features, referenced, varTypes));
      if (!out.ok) return { holds: false, error: out.error };
      if (typeof out.value !== 'boolean') return { holds: false, value: out.value, error: `condition evaluated to ${String(out.value)}, not a bool` };
      return { holds: out.value, value: out.value };
    };
    const closure = this.compileExpressions ? compileCelClosure(parsed.expr, conditionScope(source, parsed, varTypes)) : undefined;
    // The closure answers when it can (a bool); otherwise (errors, other values, features the
    // library's binding throws on) the library does.
    const bindable = featuresBindable(varTypes);
    const evaluate = closure
      ? (features: FeatureValues): ConditionOutcome => {
          const v = bindable(features) ? closure(features) : undefined;
          return v === true ? HOLDS : v === false ? DOES_NOT_HOLD : library(features);
        }
      : library;
    return { source, normalised: normaliseCel(parsed), referencedFeatures: referenced, evaluate };
  }

  private parseExpr(path: string[], source: string, label?: string): ParsedCel | undefined {
    const parsed = parseCel(source);
    if (parsed.ok) return parsed.parsed;
    const at = this.map.expressionPosition(path, parsed.error.offset);
    this.issues.push({
      path: path.join('.'),
      message: `${parsed.error.message} (at character ${parsed.error.offset + 1} of the expression)`,
      ...at,
      ...(label !== undefined ? { label } : {}),
    });
    return undefined;
  }

  private reportCheck(path: string[], result: ReturnType<typeof checkCel>, what: string, label?: string): boolean {
    const issues = [...result.issues];
    if (issues.length === 0 && result.type.k !== 'bool' && result.type.k !== 'dyn') {
      issues.push({ message: `a ${what} must be a boolean expression, but this one is ${result.type.k}`, offset: 0 });
    }
    for (const i of issues) {
      const at = this.map.expressionPosition(path, i.offset);
      this.issues.push({
        path: path.join('.'),
        message: `${i.message} (at character ${i.offset + 1} of the expression)`,
        ...at,
        ...(label !== undefined ? { label } : {}),
      });
    }
    return issues.length === 0;
  }

  private checkName(path: string[], name: string, what: string): boolean {
    if (!NAME_PATTERN.test(name)) {
      this.issue(path, `${what} name '${name}' must be snake_case: a lower-case letter, then letters, digits or '_' (max 64)`, what === 'label' ? name : undefined, true);
      return false;
    }
    if (RESERVED.has(name)) {
      this.issue(path, `${what} name '${name}' is a reserved word`, what === 'label' ? name : undefined, true);
      return false;
    }
    return true;
  }

  private duration(path: string[], text: string): number | undefined {
    const ms = parseDuration(text);
    if (ms === undefined || ms === 0) {
      this.issue(path, ms === 0 ? `duration '${text}' must be longer than zero` : `invalid duration '${text}': expected ${DURATION_GRAMMAR}`);
      return undefined;
    }
    return ms;
  }

  private issue(path: string[], message: string, label?: string, atKey = false): void {
    const at = atKey ? this.map.keyPosition(path) : this.map.position(path);
    const l = label ?? (path[0] === 'labels' ? path[1] : undefined);
    this.issues.push({ path: path.join('.'), message, ...at, ...(l !== undefined ? { label: l } : {}) });
  }
}

// Shared outcomes of the closure path: immutable, so one object serves every evaluation.
const HOLDS: ConditionOutcome = Object.freeze({ holds: true, value: true });
const DOES_NOT_HOLD: ConditionOutcome = Object.freeze({ holds: false, value: false });
const MATCHES = Object.freeze({ matches: true });
const NO_MATCH = Object.freeze({ matches: false });

function describeEvent(event: FeatureEvent): string {
  return event === 'any' ? `'any' events (only the common fields)` : `${event} events`;
}

/** Gives every feature a short, collision-free storage key derived from its definition. */
function assignStorageKeys(features: FeatureDef[]): void {
  const sigs = features.map((f) =>
    JSON.stringify([f.event, f.agg, f.field, f.where ? normaliseFilter(f.where.source) : null, f.windowMs === null ? 'L' : f.bucketMs]),
  );
  const digests = sigs.map((s) => createHash('sha256').update(s).digest('base64url'));
  for (let len = 5; len <= 43; len++) {
    const keys = digests.map((d) => d.slice(0, len));
    const bySig = new Map<string, string>();
    let collision = false;
    keys.forEach((k, i) => {
      const prev = bySig.get(k);
      if (prev !== undefined && prev !== sigs[i]) collision = true;
      bySig.set(k, sigs[i] as string);
    });
    if (!collision) {
      features.forEach((f, i) => ((f as { storageKey: string }).storageKey = keys[i] as string));
      return;
    }
  }
}

function normaliseFilter(source: string): string {
  const p = parseCel(source);
  return p.ok ? normaliseCel(p.parsed) : source;
}


