/**
 * One label evaluation, straight from the documented rules: enter / exit with minimum
 * dwell, then exclusive groups, then the diff — removals before assignments, each in
 * rules order.
 */
import type { ChangeKind } from '@labelstream/contracts';
import type { CompiledRules, FeatureValue } from '@labelstream/rules';

/** One label change of an evaluation. */
export interface EvaluatedChange {
  readonly label: string;
  readonly category: string;
  readonly change: ChangeKind;
  /** `enter`, `exit` or `group:<name>`. */
  readonly reason: string;
  /** The values of the features the label reads. */
  readonly features: Record<string, FeatureValue>;
}

/** Labels held, by name, with the time each was assigned. */
export type Held = ReadonlyMap<string, number>;

/**
 * Evaluates every label at `at` with the feature values `features`, given the labels held
 * before. Returns the changes and the labels held after.
 */
export function evaluateLabels(
  rules: CompiledRules,
  held: Held,
  features: Readonly<Record<string, FeatureValue>>,
  at: number,
): { changes: EvaluatedChange[]; held: Map<string, number> } {
  const wants = new Map<string, boolean>();
  const reason = new Map<string, string>();
  for (const label of rules.labels) {
    const since = held.get(label.name);
    if (since === undefined) {
      wants.set(label.name, label.enter(features));
      reason.set(label.name, 'enter');
    } else if (label.exit(features) && at >= since + label.minDwellMs) {
      wants.set(label.name, false);
      reason.set(label.name, 'exit');
    } else {
      wants.set(label.name, true); // exit does not hold, or the dwell keeps it
    }
  }
  const keeps = new Map(wants);
  for (const group of rules.groups) {
    if (!group.exclusive) continue;
    const holding = group.priority.filter((name) => wants.get(name) === true);
    for (const loser of holding.slice(1)) {
      keeps.set(loser, false);
      reason.set(loser, `group:${group.name}`);
    }
  }
  const read = (name: string): Record<string, FeatureValue> => {
    const label = rules.labels.find((l) => l.name === name)!;
    const out: Record<string, FeatureValue> = {};
    for (const f of label.referencedFeatures) out[f] = features[f] ?? null;
    return out;
  };
  const removals: EvaluatedChange[] = [];
  const assignments: EvaluatedChange[] = [];
  const after = new Map<string, number>();
  for (const label of rules.labels) {
    const was = held.has(label.name);
    const is = keeps.get(label.name) === true;
    if (is) after.set(label.name, was ? (held.get(label.name) as number) : at);
    const base = { label: label.name, category: label.category, features: read(label.name) };
    if (was && !is) removals.push({ ...base, change: 'REMOVED', reason: reason.get(label.name) ?? 'exit' });
    if (!was && is) assignments.push({ ...base, change: 'ASSIGNED', reason: 'enter' });
  }
  return { changes: [...removals, ...assignments], held: after };
}
