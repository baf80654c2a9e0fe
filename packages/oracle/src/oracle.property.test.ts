/**
 * The engine's pure core against the oracle on random logs: every label change (label,
 * kind, reason, time, cause, features), the final labels and the late/duplicate counts
 * must be identical. The engine is driven the way the evaluator drives it: one
 * `applyEvents` per arriving event, and `evaluateAt` at each `nextDueAt` that comes at or
 * before the next event's time, then up to a horizon.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CustomerEvent } from '@labelstream/contracts';
import { applyEvents, evaluateAt, toEngineEvent, type CustomerState, type StepResult } from '@labelstream/engine';
import { loadRules, type CompiledRules } from '@labelstream/rules';
import { logArb, SMALL, type LogShape } from './logs.test-helper';
import { oracleForCustomer, type OracleChange } from './oracle';

const SEC = 1000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

const ROOT = join(__dirname, '..', '..', '..');
const DEMO = loadRules(readFileSync(join(ROOT, 'rules', 'demo.yaml'), 'utf8'));
const DEFAULT = loadRules(readFileSync(join(ROOT, 'rules', 'default.yaml'), 'utf8'));

interface Run {
  changes: OracleChange[];
  labels: string[];
  late: number;
  duplicates: number;
}

/** Drives the engine like the evaluator: timers due at or before an event first, one step per event, then timers up to the horizon. */
function engineRun(events: readonly CustomerEvent[], rules: CompiledRules, horizon: number): Run {
  let state: CustomerState | null = null;
  let due: number | null = null;
  const run: Run = { changes: [], labels: [], late: 0, duplicates: 0 };
  const take = (step: StepResult, cause: string | null): void => {
    for (const c of step.changes) {
      run.changes.push({ customerId: 'c-1', label: c.label, category: c.category, change: c.change, reason: c.reason, effectiveAt: step.effectiveAt, causeEventId: cause, features: c.features, rulesVersion: rules.version, cause: cause === null ? 'TIMER' : 'EVENT' });
    }
    for (const o of step.outcomes) {
      if (o.outcome === 'late') run.late++;
      if (o.outcome === 'duplicate') run.duplicates++;
    }
    state = step.state;
    due = step.nextDueAt;
    run.labels = step.labels;
  };
  for (const e of events) {
    while (due !== null && due <= e.occurredAt) take(evaluateAt(state, due, rules), null);
    take(applyEvents(state, [toEngineEvent(e)], rules), e.eventId);
  }
  while (due !== null && due <= horizon) take(evaluateAt(state, due, rules), null);
  return run;
}

function check(rules: CompiledRules, shape: LogShape, runs: number): void {
  fc.assert(
    fc.property(logArb(shape), fc.integer({ min: 0, max: shape.span * 2 }), (events, extra) => {
      const horizon = shape.start + shape.span + extra;
      const engine = engineRun(events, rules, horizon);
      const oracle = oracleForCustomer('c-1', events, rules, { horizon });
      expect(engine.changes).toEqual(oracle.changes);
      if (events.length > 0) expect(engine.labels).toEqual(oracle.labels);
      expect({ late: engine.late, duplicates: engine.duplicates }).toEqual({ late: oracle.late, duplicates: oracle.duplicates });
    }),
    { numRuns: runs },
  );
}

describe('engine core vs oracle (property-based)', () => {
  it('small windows: every aggregation, hysteresis, dwell, groups, out-of-order, late and duplicate events', () => {
    check(SMALL, { start: T0, span: 30 * SEC, edge: SEC, disorder: 8 * SEC, maxEvents: 30 }, 400);
  });

  it('small windows, dense: many events around few bucket edges', () => {
    check(SMALL, { start: T0, span: 6 * SEC, edge: SEC, disorder: 6 * SEC, maxEvents: 40 }, 200);
  });

  it('rules/demo.yaml over ten minutes', () => {
    check(DEMO, { start: T0, span: 10 * 60 * SEC, edge: 5 * SEC, disorder: 45 * SEC, maxEvents: 40 }, 150);
  });

  it('rules/default.yaml over a year and a half', () => {
    check(DEFAULT, { start: T0, span: 540 * DAY, edge: DAY, disorder: 2 * 3_600_000, maxEvents: 30 }, 100);
  });
});
