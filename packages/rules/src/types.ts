import type { EventFieldType, EventView, FeatureEvent } from './event-fields';
import type { Agg, LabelCategory } from './schema';

/** A feature value as labels, explanations and label events see it. */
export type FeatureValue = number | string | boolean | null;
/** Feature values by feature name. */
export type FeatureValues = Readonly<Record<string, FeatureValue>>;

/** A compiled `where` filter over the flat event view. */
export interface CompiledFilter {
  readonly source: string;
  /** True when the event passes the filter. An evaluation error counts as "does not pass". */
  matches(event: EventView): boolean;
  /** Like `matches`, with the error message when evaluation failed. */
  evaluate(event: EventView): { readonly matches: boolean; readonly error?: string };
}

/** One declared feature: a windowed (or lifetime) aggregation over one event type. */
export interface FeatureDef {
  readonly name: string;
  readonly event: FeatureEvent;
  readonly agg: Agg;
  /** The aggregated field (null for `count`). */
  readonly field: string | null;
  /** Type of `field` in the flat event view (null for `count`). */
  readonly fieldType: EventFieldType | null;
  /** Window length, or null for lifetime. */
  readonly windowMs: number | null;
  /** Bucket granularity (explicit `bucket`, or the default derived from the window; lifetime: 0). */
  readonly bucketMs: number;
  readonly where: CompiledFilter | null;
  /**
   * CEL type labels see: `int` for count/sum/distinct (never null: empty = 0), `dyn` for
   * min/max/last (null when there is no value).
   */
  readonly valueType: 'int' | 'dyn';
  /**
   * Storage identity: a short hash of (event, agg, field, where, bucket, lifetime?). Two
   * features with the same key share stored state; a changed definition gets a new key,
   * so state written under an old definition is never misread.
   */
  readonly storageKey: string;
  readonly description: string | null;
}

/** Outcome of evaluating one condition. */
export interface ConditionOutcome {
  /** True only when the expression evaluated to boolean `true`. */
  readonly holds: boolean;
  /** The raw value (`true`/`false`), or undefined when evaluation failed. */
  readonly value?: unknown;
  /** Evaluation error message (the condition then does not hold). */
  readonly error?: string;
}

/** A compiled boolean expression over feature values. */
export interface CompiledCondition {
  readonly source: string;
  /** Canonical text, used to detect duplicate conditions. */
  readonly normalised: string;
  readonly referencedFeatures: readonly string[];
  evaluate(features: FeatureValues): ConditionOutcome;
}

/** One label definition, ready to evaluate. */
export interface CompiledLabel {
  readonly name: string;
  readonly category: LabelCategory;
  readonly description: string;
  /** Whether a label that is not held should be assigned. */
  enter(features: FeatureValues): boolean;
  /** Whether a held label should be removed (subject to `minDwellMs`). */
  exit(features: FeatureValues): boolean;
  readonly conditions: {
    /** `when` or `enter`. */
    readonly enter: CompiledCondition;
    /** Explicit `exit`, or null when exit is "enter does not hold". */
    readonly exit: CompiledCondition | null;
  };
  /** Once assigned, the label is not removed by `exit` before this long (0 = no dwell). */
  readonly minDwellMs: number;
  /**
   * After a rules change starts a windowed feature it reads empty (README "Changing rules"):
   * `decide` (default) evaluates it on the partial history; `hold` keeps the label as it is
   * — neither assigned nor removed — until that feature's window is covered.
   */
  readonly whileWarming: 'decide' | 'hold';
  /** Features read by enter and exit, in first-use order. */
  readonly referencedFeatures: readonly string[];
  /** The label's block as written in the rules file. */
  readonly sourceText: string;
  /** Exclusive group the label belongs to, if any. */
  readonly group: string | null;
}

/** A group of labels; exclusive groups keep only their highest-priority holding label. */
export interface CompiledGroup {
  readonly name: string;
  readonly exclusive: boolean;
  /** Members, highest priority first. */
  readonly priority: readonly string[];
  readonly description: string | null;
}

/** Lint thresholds (file `lint:` section or {@link lintRules} options). */
export interface LintOptions {
  /** Warn when there are more labels than this (default 25). */
  readonly maxLabels?: number;
  /** Warn when one category has more labels than this (default 8). */
  readonly maxLabelsPerCategory?: number;
}

/** A validated, compiled rules file. Immutable; safe to share across customers. */
export interface CompiledRules {
  /** Rule-set version carried by every decision. */
  readonly version: string;
  readonly allowedLatenessMs: number;
  readonly features: readonly FeatureDef[];
  readonly labels: readonly CompiledLabel[];
  readonly groups: readonly CompiledGroup[];
  /** sha-256 (hex) of the file's canonical content: data, not formatting or comments. */
  readonly hash: string;
  /** Where the rules came from (file path or a caller-given name). */
  readonly source: string;
  /** Lint thresholds given in the file, if any. */
  readonly lint: LintOptions;
}
