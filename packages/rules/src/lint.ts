/**
 * Warnings about rules that are valid but probably not what the author wants:
 * over-segmentation, labels that never fire (or always do), duplicate conditions, unused
 * features, hysteresis whose enter and exit overlap (flapping), null-unsafe reads of
 * min/max/last features, and distinct thresholds above the distinct cap.
 *
 * Condition checks sample a grid of feature values built from the constants the label's
 * own expressions mention (c−1, c, c+1, 0, 1, 2, a large value — never negative, as no
 * feature can be — null for min/max/last, the string literals). They find real problems cheaply but prove nothing: "never fires" means
 * "no sampled point satisfies it".
 */
import { parseCel, type CelExpr } from './cel';
import type { CompiledLabel, CompiledRules, FeatureValue, FeatureValues, LintOptions } from './types';

export type LintCode =
  | 'too-many-labels'
  | 'too-many-in-category'
  | 'never-fires'
  | 'always-holds'
  | 'never-exits'
  | 'duplicate-condition'
  | 'unused-feature'
  | 'hysteresis-overlap'
  | 'null-unsafe'
  | 'distinct-cap';

/** One lint finding. Lint never fails a file; it only warns. */
export interface LintWarning {
  readonly code: LintCode;
  readonly message: string;
  readonly label?: string;
  readonly feature?: string;
}

export const DEFAULT_MAX_LABELS = 25;
export const DEFAULT_MAX_LABELS_PER_CATEGORY = 8;
/** The engine keeps at most this many distinct values per feature (see the engine README). */
export const DISTINCT_CAP = 64;
const MAX_SAMPLES = 20_000;
const LARGE = 1_000_000_000;

/**
 * Lints compiled rules. Options override the file's `lint:` section, which overrides the
 * defaults (25 labels, 8 per category).
 */
export function lintRules(rules: CompiledRules, options: LintOptions = {}): LintWarning[] {
  const maxLabels = options.maxLabels ?? rules.lint.maxLabels ?? DEFAULT_MAX_LABELS;
  const maxPerCategory = options.maxLabelsPerCategory ?? rules.lint.maxLabelsPerCategory ?? DEFAULT_MAX_LABELS_PER_CATEGORY;
  const out: LintWarning[] = [];

  if (rules.labels.length > maxLabels) {
    out.push({
      code: 'too-many-labels',
      message: `${rules.labels.length} labels (more than ${maxLabels}): over-segmentation makes labels hard to act on; merge or retire some`,
    });
  }
  const perCategory = new Map<string, string[]>();
  for (const l of rules.labels) perCategory.set(l.category, [...(perCategory.get(l.category) ?? []), l.name]);
  for (const [category, names] of perCategory) {
    if (names.length > maxPerCategory) {
      out.push({
        code: 'too-many-in-category',
        message: `category '${category}' has ${names.length} labels (more than ${maxPerCategory}): ${names.join(', ')}`,
      });
    }
  }

  const used = new Set(rules.labels.flatMap((l) => l.referencedFeatures));
  for (const f of rules.features) {
    if (!used.has(f.name)) out.push({ code: 'unused-feature', feature: f.name, message: `feature '${f.name}' is not read by any label` });
  }

  const bySignature = new Map<string, string>();
  for (const l of rules.labels) {
    const sig = `${l.conditions.enter.normalised}\u0000${l.conditions.exit?.normalised ?? '!'}`;
    const first = bySignature.get(sig);
    if (first !== undefined) {
      out.push({ code: 'duplicate-condition', label: l.name, message: `label '${l.name}' has the same conditions as '${first}'` });
    } else bySignature.set(sig, l.name);
  }

  const distinctFeatures = new Set(rules.features.filter((f) => f.agg === 'distinct').map((f) => f.name));
  const dynFeatures = new Set(rules.features.filter((f) => f.valueType === 'dyn').map((f) => f.name));
  for (const label of rules.labels) {
    out.push(...lintLabel(label, dynFeatures, distinctFeatures));
  }
  return out;
}

function lintLabel(label: CompiledLabel, dynFeatures: ReadonlySet<string>, distinctFeatures: ReadonlySet<string>): LintWarning[] {
  const out: LintWarning[] = [];
  const sources = [label.conditions.enter.source, ...(label.conditions.exit ? [label.conditions.exit.source] : [])];
  const constants = collectConstants(sources);

  const readsDistinct = label.referencedFeatures.filter((f) => distinctFeatures.has(f));
  const bigConst = constants.ints.find((c) => c >= DISTINCT_CAP);
  if (readsDistinct.length > 0 && bigConst !== undefined) {
    out.push({
      code: 'distinct-cap',
      label: label.name,
      message: `label '${label.name}' compares distinct feature(s) ${readsDistinct.join(', ')} with ${bigConst}, but distinct counts stop at ${DISTINCT_CAP}`,
    });
  }

  const axes = label.referencedFeatures.map((f) => candidates(constants, dynFeatures.has(f)));
  let enterTrue = 0;
  let enterFalse = 0;
  let exitTrue = 0;
  let overlap: FeatureValues | undefined;
  let nullError: { feature: string; error: string } | undefined;
  for (const point of samplePoints(label.referencedFeatures, axes, label.name)) {
    const enter = label.conditions.enter.evaluate(point);
    if (enter.holds) enterTrue++;
    else enterFalse++;
    if (enter.error && !nullError) {
      const nullFeature = label.referencedFeatures.find((f) => point[f] === null);
      if (nullFeature !== undefined) nullError = { feature: nullFeature, error: enter.error };
    }
    if (label.conditions.exit) {
      const exit = label.conditions.exit.evaluate(point);
      if (exit.holds) exitTrue++;
      if (exit.holds && enter.holds && !overlap) overlap = point;
      if (exit.error && !nullError) {
        const nullFeature = label.referencedFeatures.find((f) => point[f] === null);
        if (nullFeature !== undefined) nullError = { feature: nullFeature, error: exit.error };
      }
    }
  }

  if (enterTrue === 0) {
    out.push({ code: 'never-fires', label: label.name, message: `label '${label.name}' never fires: no sampled feature values satisfy '${label.conditions.enter.source}'` });
  } else if (enterFalse === 0) {
    out.push({ code: 'always-holds', label: label.name, message: `label '${label.name}' holds for every sampled feature value (even for a customer with no events)` });
  }
  if (label.conditions.exit && exitTrue === 0) {
    out.push({ code: 'never-exits', label: label.name, message: `label '${label.name}' is never removed: no sampled feature values satisfy its exit '${label.conditions.exit.source}'` });
  }
  if (overlap) {
    const at = Object.entries(overlap).map(([k, v]) => `${k}=${v === null ? 'null' : String(v)}`).join(', ');
    out.push({
      code: 'hysteresis-overlap',
      label: label.name,
      message: `label '${label.name}': enter and exit both hold at ${at}; the label would flap (exit should imply !enter)`,
    });
  }
  if (nullError) {
    out.push({
      code: 'null-unsafe',
      label: label.name,
      feature: nullError.feature,
      message: `label '${label.name}' fails to evaluate when '${nullError.feature}' has no value (${nullError.error.split('\n')[0]}); guard it, e.g. '${nullError.feature} != null && …' (a failed condition counts as not holding)`,
    });
  }
  return out;
}

interface Constants {
  ints: number[];
  strings: string[];
}

function collectConstants(sources: readonly string[]): Constants {
  const ints = new Set<number>();
  const strings = new Set<string>();
  const walk = (e: CelExpr | undefined): void => {
    if (!e) return;
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr': {
        const c = k.value.constantKind;
        if (c.case === 'int64Value' || c.case === 'uint64Value') ints.add(Number(c.value));
        else if (c.case === 'doubleValue') ints.add(c.value);
        else if (c.case === 'stringValue') strings.add(c.value);
        return;
      }
      case 'selectExpr':
        return walk(k.value.operand);
      case 'callExpr':
        walk(k.value.target);
        k.value.args.forEach(walk);
        // `-5` parses as a negated literal; sample around the negative value too.
        if (k.value.function === '-_') {
          const inner = k.value.args[0]?.exprKind;
          if (inner?.case === 'constExpr' && inner.value.constantKind.case === 'int64Value') ints.add(-Number(inner.value.constantKind.value));
        }
        return;
      case 'listExpr':
        return k.value.elements.forEach(walk);
      case 'comprehensionExpr':
        walk(k.value.iterRange);
        walk(k.value.loopStep);
        walk(k.value.result);
        return;
      default:
        return;
    }
  };
  for (const s of sources) {
    const p = parseCel(s);
    if (p.ok) walk(p.parsed.expr);
  }
  return { ints: [...ints], strings: [...strings] };
}

function candidates(constants: Constants, nullable: boolean): FeatureValue[] {
  const nums = new Set<number>([0, 1, 2, LARGE]);
  for (const c of constants.ints) {
    if (Number.isInteger(c)) for (const d of [-1, 0, 1]) nums.add(c + d);
    else {
      nums.add(Math.floor(c));
      nums.add(Math.ceil(c));
    }
  }
  // Every numeric field of the event view is non-negative (amounts, counts, scores,
  // times), so every feature is too: negative samples would report impossible points.
  const out: FeatureValue[] = [...nums].filter((n) => n >= 0).sort((a, b) => a - b);
  if (nullable) out.unshift(null, ...constants.strings, '');
  return out;
}

/** The full grid when small, else a deterministic pseudo-random sample of it. */
function* samplePoints(names: readonly string[], axes: readonly FeatureValue[][], seedText: string): Generator<FeatureValues> {
  const total = axes.reduce((n, a) => n * a.length, 1);
  if (total <= MAX_SAMPLES) {
    for (let i = 0; i < total; i++) yield pointAt(names, axes, i);
    return;
  }
  let seed = 2166136261;
  for (const ch of seedText) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0;
  for (let n = 0; n < MAX_SAMPLES; n++) {
    const point: Record<string, FeatureValue> = {};
    names.forEach((name, i) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const axis = axes[i] as FeatureValue[];
      point[name] = axis[(seed >>> 16) % axis.length] as FeatureValue;
    });
    yield point;
  }
}

function pointAt(names: readonly string[], axes: readonly FeatureValue[][], index: number): FeatureValues {
  const point: Record<string, FeatureValue> = {};
  let rest = index;
  names.forEach((name, i) => {
    const axis = axes[i] as FeatureValue[];
    point[name] = axis[rest % axis.length] as FeatureValue;
    rest = Math.floor(rest / axis.length);
  });
  return point;
}
