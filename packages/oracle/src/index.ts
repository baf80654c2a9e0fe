/**
 * @labelstream/oracle — a reference oracle for the label pipeline: from an event log and a
 * rules file, the exact sequence of label changes per customer (time-based ones included,
 * at their due times). Deliberately naive and independent of the engine: it shares only
 * the rules parser, so the engine, the evaluator and the whole pipeline can be checked
 * against it.
 *
 * @example
 * import { runOracle } from '@labelstream/oracle';
 * const outcomes = runOracle(events, loadRules(text), { horizon: Date.now() - 5000 });
 * for (const [customerId, o] of outcomes) console.log(customerId, o.changes);
 *
 * @packageDocumentation
 */
export { oracleForCustomer, runOracle, type CustomerOutcome, type OracleChange, type OracleOptions, type RulesSwitch } from './oracle';
export { compareSequences, type ChangeKey, type SequenceComparison } from './compare';
export { viewOf } from './event-view';
export { OracleError, type OracleErrorCode } from './errors';
