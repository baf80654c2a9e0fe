/**
 * @labelstream/engine — the pure per-customer state machine: windowed features over event
 * time, label conditions with hysteresis, dwell and exclusive groups, label diffs, and the
 * exact time of the next time-based change. No I/O, no wall clock.
 *
 * @example
 * const step = applyEvents(decodeState(stored), [toEngineEvent(customerEvent)], rules);
 * // store encodeState(step.state), publish step.changes, schedule step.nextDueAt
 *
 * @packageDocumentation
 */
export { applyEvents, evaluateAt, type EventOutcome, type StepOptions, type StepResult } from './engine';
export { toEngineEvent, eventView, type EngineEvent, type EventAttr } from './event';
export { explain, type Explanation, type LabelExplanation } from './explain';
export type { EvalError } from './evaluate';
export { emptyState, encodeState, decodeState, IDS_APART_VERSION, type CustomerState, type EncodeOptions, type FeatureData, type LastEntry, type Scalar } from './state';
export { attachIds, compactIds, idEntries } from './ids';
export { EngineError, type EngineErrorCode } from './errors';
export { backfillPlan, backfillSince, customerHash, DEFAULT_BACKFILL_MAX_CUSTOMERS, foldHistory, inShard, mergeBackfill, runBackfill, type BackfillFold, type BackfillIo, type BackfillOptions, type BackfillPlan, type BackfillRun, type Shard } from './backfill';
export { switchTarget, reevaluate, RateBudget, sweepDurationMs, DiffTally, labelsUnder, labelsUnderBackfill, warmingAfterSwitch, warmingMap, type DiffSummary, type LabelDiff, type WarmingFeature } from './rollout';
