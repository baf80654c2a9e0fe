import type { CompiledRules, FeatureValue } from '@labelstream/rules';
import { evaluateLabels } from './evaluate';
import { emptyState, type CustomerState } from './state';

/** Why one label is (or is not) held. */
export interface LabelExplanation {
  readonly label: string;
  readonly category: string;
  readonly description: string;
  /** Held in the stored state (before this evaluation). */
  readonly held: boolean;
  /** Since when it is held (stored state), epoch ms. */
  readonly since: number | null;
  /** Held after evaluating at `at`. */
  readonly holds: boolean;
  /** What evaluation at `at` would change: `enter`, `exit`, `group:<name>`, or null for nothing. */
  readonly change: 'ASSIGNED' | 'REMOVED' | null;
  readonly reason: string | null;
  readonly enter: { readonly source: string; readonly holds: boolean; readonly error?: string };
  /** `source` is `!(enter)` when the label has no explicit exit. */
  readonly exit: { readonly source: string; readonly holds: boolean; readonly error?: string; readonly explicit: boolean };
  readonly minDwellMs: number;
  /** Kept only by its minimum dwell until this time. */
  readonly dwellUntil: number | null;
  /** `whileWarming: hold` and a feature it reads is warming up after a rules change: kept as it is until this time. */
  readonly warmingUntil: number | null;
  /** The features the label reads, with their values at `at`. */
  readonly features: Record<string, FeatureValue>;
  /** Exclusive group outcome, or null when the label is in none. */
  readonly group: { readonly name: string; readonly outcome: 'winner' | 'suppressed' | 'not-holding'; readonly suppressedBy: string | null } | null;
  readonly sourceText: string;
  /** For a held label: the rules version it was last decided under (null for a state from before versioned rules). */
  readonly decidedUnder: string | null;
}

/** A customer's labels explained as of one time (`labelstream explain`). */
export interface Explanation {
  readonly rulesVersion: string;
  /** Evaluation time: max(stored clock, requested time). */
  readonly at: number;
  /** The stored clock. */
  readonly clock: number;
  readonly features: Record<string, FeatureValue>;
  readonly labels: readonly LabelExplanation[];
  /** Held labels the rules no longer define (would be removed with reason `rules-changed`). */
  readonly undefinedLabels: readonly string[];
  readonly nextDueAt: number | null;
}

/** Explains every label for a customer as of `at`, without changing anything. */
export function explain(state: CustomerState | null, rules: CompiledRules, at: number, warming?: ReadonlyMap<string, number>): Explanation {
  const s = state ?? emptyState();
  const t = Math.max(s.c, at);
  const ev = evaluateLabels(s, rules, t, warming);
  const defined = new Set(rules.labels.map((l) => l.name));
  return {
    rulesVersion: rules.version,
    at: t,
    clock: s.c,
    features: ev.features,
    undefinedLabels: Object.keys(s.l).filter((n) => !defined.has(n)).sort(),
    nextDueAt: ev.nextDueAt,
    labels: ev.decisions.map((d) => {
      const change = d.held && !d.keeps ? 'REMOVED' : !d.held && d.keeps ? 'ASSIGNED' : null;
      const exitCond = d.label.conditions.exit;
      return {
        label: d.label.name,
        category: d.label.category,
        description: d.label.description,
        held: d.held,
        since: d.since,
        holds: d.keeps,
        change,
        reason: change !== null ? d.reason : d.suppressedBy !== null ? d.reason : null,
        enter: { source: d.label.conditions.enter.source, ...d.enter },
        exit: { source: exitCond ? exitCond.source : `!(${d.label.conditions.enter.source})`, ...d.exit, explicit: exitCond !== null },
        minDwellMs: d.label.minDwellMs,
        dwellUntil: d.dwellUntil,
        warmingUntil: d.warmingUntil,
        features: d.features,
        group: d.label.group === null
          ? null
          : {
              name: d.label.group,
              outcome: d.keeps ? 'winner' : d.suppressedBy !== null ? 'suppressed' : 'not-holding',
              suppressedBy: d.suppressedBy,
            },
        sourceText: d.label.sourceText,
        decidedUnder: d.held ? (s.r ?? null) : null,
      };
    }),
  };
}
