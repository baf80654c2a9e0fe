/**
 * @labelstream/rules — the rules file: YAML with windowed features and CEL label
 * conditions, validated with positions, compiled for the engine, and linted.
 *
 * @example
 * import { loadRules, lintRules } from '@labelstream/rules';
 * const rules = loadRules(text, { source: 'rules/default.yaml' }); // throws RulesError
 * for (const w of lintRules(rules)) console.warn(w.message);
 *
 * @packageDocumentation
 */
export { loadRules, parseRules, type LoadRulesOptions, type ParseRulesResult } from './compile';
export { lintRules, DEFAULT_MAX_LABELS, DEFAULT_MAX_LABELS_PER_CATEGORY, DISTINCT_CAP, type LintCode, type LintWarning } from './lint';
export {
  checkRulesFile,
  checkRulesText,
  formatCheckResult,
  readRulesFile,
  summarizeRules,
  type CheckRulesResult,
  type RulesSummary,
} from './check-file';
export { RulesError, RulesFileError, formatIssues, type RuleIssue } from './errors';
export { defaultBucketMs, BUCKET_LADDER_MS } from './duration';
export {
  COMMON_FIELDS,
  EVENT_FIELDS,
  EVENT_TYPE_OF,
  FEATURE_EVENTS,
  fieldsOf,
  type EventFieldType,
  type EventView,
  type FeatureEvent,
} from './event-fields';
export { AGGS, CATEGORIES, type Agg, type LabelCategory } from './schema';
export type {
  CompiledCondition,
  CompiledFilter,
  CompiledGroup,
  CompiledLabel,
  CompiledRules,
  ConditionOutcome,
  FeatureDef,
  FeatureValue,
  FeatureValues,
  LintOptions,
} from './types';
export { compareRules, type FeatureChange, type RulesComparison } from './compare';
