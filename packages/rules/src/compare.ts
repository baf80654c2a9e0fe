/**
 * What a new rules file changes against the rules in force, before anything is deployed
 * (`labelstream rules diff`, and `deploy`'s refusal of a version that is not new). Pure.
 */
import { formatDuration } from '@labelstream/duration';
import type { CompiledLabel, CompiledRules, FeatureDef } from './types';

/** A feature whose stored data the new rules cannot reuse: it starts empty unless backfilled. */
export interface FeatureChange {
  readonly name: string;
  readonly change: 'added' | 'redefined';
  /** How much event history fills it: its window, or null for lifetime (all of it). */
  readonly historyMs: number | null;
  /** `90d`, `lifetime`. */
  readonly history: string;
  /** The labels of the new rules that read it. */
  readonly readBy: readonly string[];
}

/** What differs between two rule sets. */
export interface RulesComparison {
  readonly from: string;
  readonly to: string;
  readonly labelsAdded: readonly string[];
  readonly labelsRemoved: readonly string[];
  /** Same name, different enter / exit / dwell / category / group. */
  readonly labelsChanged: readonly string[];
  /** New storage keys read by some label (added, or an existing name with a new definition). */
  readonly features: readonly FeatureChange[];
  /** Features whose window alone changed: their stored buckets are reused. */
  readonly windowsChanged: readonly string[];
  readonly featuresRemoved: readonly string[];
  /** Nothing changes for any customer (only comments, formatting or the version). */
  readonly same: boolean;
}

function labelShape(l: CompiledLabel): string {
  return JSON.stringify([l.category, l.conditions.enter.normalised, l.conditions.exit?.normalised ?? null, l.minDwellMs, l.group, l.whileWarming]);
}

/** Compares `next` with the rules in force `current`. */
export function compareRules(current: CompiledRules, next: CompiledRules): RulesComparison {
  const oldLabels = new Map(current.labels.map((l) => [l.name, l] as const));
  const newLabels = new Map(next.labels.map((l) => [l.name, l] as const));
  const oldFeatures = new Map(current.features.map((f) => [f.name, f] as const));
  const oldKeys = new Set(current.features.map((f) => f.storageKey));
  const readBy = new Map<string, string[]>();
  for (const l of next.labels) for (const f of l.referencedFeatures) (readBy.get(f) ?? readBy.set(f, []).get(f)!).push(l.name);
  const features: FeatureChange[] = [];
  const windowsChanged: string[] = [];
  for (const f of next.features) {
    const before: FeatureDef | undefined = oldFeatures.get(f.name);
    if (!oldKeys.has(f.storageKey) && readBy.has(f.name)) {
      features.push({
        name: f.name,
        change: before ? 'redefined' : 'added',
        historyMs: f.windowMs,
        history: f.windowMs === null ? 'lifetime' : formatDuration(f.windowMs),
        readBy: readBy.get(f.name) ?? [],
      });
    } else if (before && before.storageKey === f.storageKey && before.windowMs !== f.windowMs) {
      windowsChanged.push(f.name);
    }
  }
  const labelsAdded = next.labels.filter((l) => !oldLabels.has(l.name)).map((l) => l.name);
  const labelsRemoved = current.labels.filter((l) => !newLabels.has(l.name)).map((l) => l.name);
  const labelsChanged = next.labels.filter((l) => oldLabels.has(l.name) && labelShape(oldLabels.get(l.name)!) !== labelShape(l)).map((l) => l.name);
  const featuresRemoved = current.features.filter((f) => !next.features.some((g) => g.name === f.name)).map((f) => f.name);
  // Labels read features by name: a feature redefined under the same name changes every label reading it.
  const same =
    !labelsAdded.length && !labelsRemoved.length && !labelsChanged.length && !features.length && !windowsChanged.length && current.allowedLatenessMs === next.allowedLatenessMs &&
    next.features.every((f) => oldFeatures.get(f.name)?.storageKey === f.storageKey || !readBy.has(f.name));
  return { from: current.version, to: next.version, labelsAdded, labelsRemoved, labelsChanged, features, windowsChanged, featuresRemoved, same };
}
