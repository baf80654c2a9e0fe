/**
 * The engine's pure core against the oracle on random logs: every label change (label,
 * kind, reason, time, cause, features), the final labels and the late/duplicate counts
 * must be identical. The engine is driven the way the evaluator drives it: one
 * `applyEvents` per arriving event, and `evaluateAt` at each `nextDueAt` that comes at or
 * before the next event's time, then up to a horizon. Across a live rules switch too,
 * with events applied before the switch point delivered again after it (a crash between
 * the state commit and the input offset commit).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CustomerEvent } from '@labelstream/contracts';
import { applyEvents, backfillPlan, evaluateAt, foldHistory, mergeBackfill, reevaluate, toEngineEvent, type CustomerState, type StepResult } from '@labelstream/engine';
import { loadRules, type CompiledRules } from '@labelstream/rules';
import { logArb, SMALL, SMALL_TEXT, type LogShape } from './logs.test-helper';
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

/** A rules switch as the driver below lives it: from event `firstEvent` on, the new rules; `swept`: the sweep re-evaluates at the switch. */
interface Switch {
  readonly rules: CompiledRules;
  readonly firstEvent: number;
  readonly swept: boolean;
}

/**
 * One customer driven through the engine step by step: its state, pending due time and the
 * rules in force, and what the steps came to (`take` records a step's changes under the
 * rules in force, as the evaluator publishes them).
 */
function customerDriver(rules: CompiledRules) {
  const d = {
    state: null as CustomerState | null,
    due: null as number | null,
    current: rules,
    run: { changes: [], labels: [], late: 0, duplicates: 0 } as Run,
    take(step: StepResult, cause: string | null, kind: OracleChange['cause'] = cause === null ? 'TIMER' : 'EVENT'): void {
      for (const c of step.changes) {
        d.run.changes.push({ customerId: 'c-1', label: c.label, category: c.category, change: c.change, reason: c.reason, effectiveAt: step.effectiveAt, causeEventId: cause, features: c.features, rulesVersion: d.current.version, cause: kind });
      }
      for (const o of step.outcomes) {
        if (o.outcome === 'late') d.run.late++;
        if (o.outcome === 'duplicate') d.run.duplicates++;
      }
      d.state = step.state;
      d.due = step.nextDueAt;
      d.run.labels = step.labels;
    },
  };
  return d;
}

/**
 * Drives the engine like the evaluator: timers due at or before an event first, one step
 * per event (given the pending due time, as the evaluator's replay does), then timers up
 * to the horizon. With a switch: the timers before the first event under the new rules
 * fire under them (the oracle's `timersUntil: null`), and the sweep runs `reevaluate`.
 */
function engineRun(events: readonly CustomerEvent[], rules: CompiledRules, horizon: number, sw?: Switch): Run {
  const d = customerDriver(rules);
  let switched = false;
  const switchRules = (): void => {
    if (!sw || switched) return;
    switched = true;
    d.current = sw.rules;
    const swept = sw.swept && d.state ? reevaluate(d.state, d.current) : null;
    if (swept) d.take(swept, null, 'RULES_CHANGED');
  };
  for (const [i, e] of events.entries()) {
    const isNew = sw !== undefined && i >= sw.firstEvent;
    while (d.due !== null && d.due <= e.occurredAt) {
      if (isNew) switchRules();
      d.take(evaluateAt(d.state, d.due, d.current), null);
    }
    if (isNew) switchRules();
    d.take(applyEvents(d.state, [toEngineEvent(e)], d.current, { dueAt: d.due }), e.eventId);
  }
  while (d.due !== null && d.due <= horizon) {
    switchRules();
    d.take(evaluateAt(d.state, d.due, d.current), null);
  }
  if (sw?.swept) switchRules();
  return d.run;
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

/**
 * SMALL with lower thresholds (same features, same dwell: the due times the two compute
 * from a state are the same, as they must be for a customer the sweep has not reached,
 * whose stored timer was set under the old rules).
 */
const SMALL_LOWER = loadRules(
  SMALL_TEXT.replace('oracle-small', 'oracle-small-lower')
    .replace('"clicks_10s >= 2"', '"clicks_10s >= 1"')
    .replace('max_12s >= 4"', 'max_12s >= 3"')
    .replace('"n_life >= 3 && any_7s == 0"', '"n_life >= 2 && any_7s == 0"')
    .replace('"cats_6s >= 2 ||', '"cats_6s >= 1 ||'),
);

describe('engine core vs oracle across a rules switch, with re-delivered events (property-based)', () => {
  const shape: LogShape = { start: T0, span: 30 * SEC, edge: SEC, disorder: 8 * SEC, maxEvents: 30 };
  /** The log, switch point k and re-delivered run [r, k): the copies arrive right after the switch point. */
  const arb = fc.record({ log: logArb(shape).filter((l) => l.length > 0), k: fc.nat(), r: fc.nat(), swept: fc.boolean(), extra: fc.integer({ min: 0, max: shape.span * 2 }) });

  it('the same changes, and the copies decide nothing: as if they had not been delivered again', () => {
    let redecided = 0;
    fc.assert(
      fc.property(arb, ({ log, k: kRaw, r: rRaw, swept, extra }) => {
        const k = 1 + (kRaw % log.length);
        const r = rRaw % k;
        const again = [...log.slice(0, k), ...log.slice(r, k), ...log.slice(k)];
        const horizon = shape.start + shape.span + extra;
        const sw = { rules: SMALL_LOWER, firstEvent: k, swept };
        const oracle = oracleForCustomer('c-1', again, SMALL, { horizon, rulesSwitch: { ...sw, timersUntil: null } });
        const engine = engineRun(again, SMALL, horizon, sw);
        expect(engine.changes).toEqual(oracle.changes);
        expect(engine.labels).toEqual(oracle.labels);
        expect({ late: engine.late, duplicates: engine.duplicates }).toEqual({ late: oracle.late, duplicates: oracle.duplicates });
        // A copy is a duplicate or late unless its id was forgotten and it carries another
        // time than the copy applied (a re-used id): then it is a new event, and may decide.
        const once = oracleForCustomer('c-1', log, SMALL, { horizon, rulesSwitch: { ...sw, timersUntil: null } });
        if (oracle.applied !== once.applied) return;
        expect(oracle.changes).toEqual(once.changes);
        // Not swept, with a change the new rules imply at the switch point: evaluated under
        // them, the first copy would have decided it (cause EVENT, the copy's id).
        if (!swept && oracleForCustomer('c-1', again, SMALL, { horizon, rulesSwitch: { ...sw, swept: true, timersUntil: null } }).changes.some((c) => c.cause === 'RULES_CHANGED')) redecided++;
      }),
      { numRuns: 300 },
    );
    expect(redecided).toBeGreaterThan(20); // the logs exercise the case
  });
});

/**
 * The fault run's deploy (test/faults/rules-deploy.ts) on rules/demo.yaml, with `spend_2m`
 * redefined to leave out store orders (the logs here have no marketplace ones): a threshold,
 * a new label and a backfilled feature.
 */
const DEMO_DEPLOYED = loadRules(
  readFileSync(join(ROOT, 'rules', 'demo.yaml'), 'utf8')
    .replace(/^version: "([^"]+)"$/m, 'version: "demo-deployed"')
    .replace('enter: "spend_2m >= 50000"', 'enter: "spend_2m >= 45000"')
    .replace(/^labels:\n/m, (m) => `${m}  busy:\n    category: behaviour\n    description: "three orders in five minutes"\n    when: "orders_5m >= 3"\n\n`)
    .replace(/^(\s*spend_2m:\s*\{ event: purchase, agg: sum, field: amountMinorBase, window: 2m) \}$/m, `$1, where: "event.channel != 'STORE'" }`),
);

/**
 * Drives the engine as the evaluator does across a switch at event `k` (no timer fired by
 * the timer loop under the old rules): at the customer's first touch after the switch (its
 * event, or an old-rules due time) the new feature is backfilled from the events before the
 * switch point (`foldHistory`, `mergeBackfill`) and the customer re-checked at its clock
 * (RULES_CHANGED); from there the new rules' due times. The sweep reaches it at the end
 * otherwise.
 */
function evaluatorRun(events: readonly CustomerEvent[], from: CompiledRules, to: CompiledRules, k: number, horizon: number): Run {
  const d = customerDriver(from);
  let switched = false;
  const plan = backfillPlan(from, to);
  const recheck = (): void => {
    if (switched) return;
    switched = true;
    d.current = to;
    if (!d.state) return;
    if (plan) mergeBackfill(d.state, foldHistory(undefined, events.slice(0, k).map(toEngineEvent), to, plan.keys), to, plan.keys);
    d.take(evaluateAt(d.state, d.state.c, to), null, 'RULES_CHANGED');
  };
  for (const [i, e] of events.entries()) {
    if (i >= k) recheck();
    while (d.due !== null && d.due <= e.occurredAt) d.take(evaluateAt(d.state, d.due, d.current), null);
    d.take(applyEvents(d.state, [toEngineEvent(e)], d.current, { dueAt: d.due }), e.eventId);
  }
  if (d.due !== null && d.due <= horizon) recheck();
  while (d.due !== null && d.due <= horizon) d.take(evaluateAt(d.state, d.due, d.current), null);
  recheck();
  return d.run;
}

describe('engine core vs oracle across a rules switch that backfills a redefined feature (property-based)', () => {
  it('the evaluator\'s backfill and re-check give the oracle\'s changes, which differ from the feature started empty', () => {
    const shape: LogShape = { start: T0, span: 10 * 60 * SEC, edge: 5 * SEC, disorder: 45 * SEC, maxEvents: 40 };
    let differs = 0;
    fc.assert(
      fc.property(logArb(shape).filter((l) => l.length > 0), fc.nat(), fc.integer({ min: 0, max: shape.span }), (log, kRaw, extra) => {
        const k = 1 + (kRaw % log.length);
        const horizon = shape.start + shape.span + extra;
        const sw = { rules: DEMO_DEPLOYED, firstEvent: k, timersUntil: null, swept: true };
        const oracle = oracleForCustomer('c-1', log, DEMO, { horizon, rulesSwitch: sw });
        const engine = evaluatorRun(log, DEMO, DEMO_DEPLOYED, k, horizon);
        expect(engine.changes).toEqual(oracle.changes);
        expect(engine.labels).toEqual(oracle.labels);
        const empty = oracleForCustomer('c-1', log, DEMO, { horizon, rulesSwitch: { ...sw, backfill: false } });
        if (JSON.stringify(empty.changes) !== JSON.stringify(oracle.changes)) differs++;
      }),
      { numRuns: 300 },
    );
    expect(differs).toBeGreaterThan(10); // the logs exercise the backfill
  });
});

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
