/**
 * `labelstream report`, pure part one: a list of label events → the report model (label
 * populations over time, entries and exits, flapping, overlap of the current sets, labels
 * that never fire or fire for almost everyone, rules versions, governance warnings).
 * No I/O and no clock: the caller passes `now`.
 */

/** The fields of a public `LabelEvent` the report reads. */
export interface ReportEvent {
  readonly eventId: string;
  readonly type: 'LABEL_ASSIGNED' | 'LABEL_REMOVED';
  readonly customerId: string;
  readonly label: string;
  readonly category: string;
  readonly effectiveAt: number;
  readonly rulesVersion: string;
}

/** The rule set in force, when the caller could read the rules file. */
export interface ReportRules {
  readonly source: string;
  readonly version: string;
  readonly labels: ReadonlyArray<{ readonly name: string; readonly category: string }>;
}

export interface ReportOptions {
  /** Report time (end of the charts), epoch ms. */
  readonly now: number;
  /** Start of the charts, epoch ms; events before it still build the sets. Default: the first event. */
  readonly since?: number;
  /** An exit within this long of the entry counts as a flap. */
  readonly flapWindowMs: number;
  readonly rules?: ReportRules;
  readonly topic: string;
  /** A label held by at least this share of the customers seen is "almost everyone" (default 0.9). */
  readonly almostAllShare?: number;
  /** The seeds' advice: fewer than this many labels per category (default 10). */
  readonly maxLabelsPerCategory?: number;
}

export interface LabelStats {
  readonly label: string;
  readonly category: string;
  /** Holders now (from the events). */
  readonly population: number;
  /** Share of the customers seen in the events that hold it now. */
  readonly share: number;
  /** In the chart range. */
  readonly entries: number;
  readonly exits: number;
  /** Exits within the flap window of the entry (chart range). */
  readonly flaps: number;
  /** Distinct customers with a flap (chart range). */
  readonly flappingCustomers: number;
  /** Assignments over the whole history read. */
  readonly everAssigned: number;
  /** In the rules file given (undefined when no rules file was read). */
  readonly inRules?: boolean;
}

export interface ReportModel {
  readonly topic: string;
  readonly generatedAt: number;
  readonly from: number;
  readonly to: number;
  /** Width of one chart bucket, ms (a day for long ranges, shorter for short ones). */
  readonly bucketMs: number;
  /** Bucket start times. */
  readonly buckets: readonly number[];
  readonly events: number;
  readonly duplicates: number;
  /** Events that change nothing (an assignment of a held label, a removal of one not held). */
  readonly noOps: number;
  readonly customers: number;
  readonly customersWithLabel: number;
  readonly firstEventAt: number | null;
  readonly lastEventAt: number | null;
  readonly labels: readonly LabelStats[];
  /** Population of each label at the end of each bucket, in `labels` order. */
  readonly population: readonly (readonly number[])[];
  readonly entriesPerBucket: readonly (readonly number[])[];
  readonly exitsPerBucket: readonly (readonly number[])[];
  /** overlap[a][b]: share of label a's holders who also hold b (NaN-free: 0 when a has none). */
  readonly overlap: readonly (readonly number[])[];
  readonly neverFired: readonly string[];
  readonly almostEveryone: readonly string[];
  readonly rulesVersions: ReadonlyArray<{ readonly version: string; readonly events: number; readonly first: number; readonly last: number }>;
  readonly rules: { readonly source: string; readonly version: string; readonly categories: Readonly<Record<string, number>> } | null;
  readonly warnings: readonly string[];
  readonly flapWindowMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const BUCKETS = [MIN, 5 * MIN, 15 * MIN, HOUR, 6 * HOUR, DAY, 7 * DAY];
const MAX_BUCKETS = 120;

/** A day per bucket once the range is long enough; the smallest step that keeps ≤ 120 buckets otherwise. */
export function chooseBucket(rangeMs: number): number {
  if (rangeMs > 2 * DAY) return rangeMs / DAY <= MAX_BUCKETS ? DAY : 7 * DAY;
  return BUCKETS.find((b) => rangeMs / b <= MAX_BUCKETS) ?? DAY;
}

/** `90s`, `15m`, `6h`, `1d`, `7d` for ms. */
export function formatSpan(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MIN === 0) return `${ms / MIN}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** Builds the report model from label events in the order they were read (per-customer order = partition order). */
export function buildReport(input: Iterable<ReportEvent>, opts: ReportOptions): ReportModel {
  const almostAll = opts.almostAllShare ?? 0.9;
  const perCategoryLimit = opts.maxLabelsPerCategory ?? 10;
  const seen = new Set<string>();
  let duplicates = 0;
  let noOps = 0;
  let events = 0;
  let first: number | null = null;
  let last: number | null = null;
  const categoryOf = new Map<string, string>();
  const everAssigned = new Map<string, number>();
  const versions = new Map<string, { events: number; first: number; last: number }>();
  /** customer → label → entered at */
  const holding = new Map<string, Map<string, number>>();
  /** Effective transitions, for the time series. */
  const changes: Array<{ at: number; label: string; delta: 1 | -1; customer: string; heldFor?: number }> = [];

  for (const e of input) {
    if (seen.has(e.eventId)) {
      duplicates++;
      continue;
    }
    seen.add(e.eventId);
    events++;
    first = first === null ? e.effectiveAt : Math.min(first, e.effectiveAt);
    last = last === null ? e.effectiveAt : Math.max(last, e.effectiveAt);
    if (!categoryOf.has(e.label)) categoryOf.set(e.label, e.category);
    const v = versions.get(e.rulesVersion) ?? { events: 0, first: e.effectiveAt, last: e.effectiveAt };
    versions.set(e.rulesVersion, { events: v.events + 1, first: Math.min(v.first, e.effectiveAt), last: Math.max(v.last, e.effectiveAt) });
    let mine = holding.get(e.customerId);
    if (!mine) holding.set(e.customerId, (mine = new Map()));
    if (e.type === 'LABEL_ASSIGNED') {
      everAssigned.set(e.label, (everAssigned.get(e.label) ?? 0) + 1);
      if (mine.has(e.label)) noOps++;
      else {
        mine.set(e.label, e.effectiveAt);
        changes.push({ at: e.effectiveAt, label: e.label, delta: 1, customer: e.customerId });
      }
    } else {
      const since = mine.get(e.label);
      if (since === undefined) noOps++;
      else {
        mine.delete(e.label);
        changes.push({ at: e.effectiveAt, label: e.label, delta: -1, customer: e.customerId, heldFor: e.effectiveAt - since });
      }
    }
  }

  for (const l of opts.rules?.labels ?? []) if (!categoryOf.has(l.name)) categoryOf.set(l.name, l.category);
  const ruleNames = opts.rules ? new Set(opts.rules.labels.map((l) => l.name)) : null;
  // Rules order first (the author's order), then labels only the events know, by name.
  const order = [...(opts.rules?.labels.map((l) => l.name) ?? []), ...[...categoryOf.keys()].filter((n) => !ruleNames?.has(n)).sort()];
  const index = new Map(order.map((n, i) => [n, i]));

  const from = opts.since ?? first ?? opts.now;
  const to = Math.max(opts.now, from + 1);
  const bucketMs = chooseBucket(to - from);
  const start = Math.floor(from / bucketMs) * bucketMs;
  const buckets: number[] = [];
  for (let t = start; t < to; t += bucketMs) buckets.push(t);
  const zeros = () => order.map(() => buckets.map(() => 0));
  const population = zeros();
  const entries = zeros();
  const exits = zeros();
  const flaps = order.map(() => 0);
  const flappers = order.map(() => new Set<string>());

  changes.sort((a, b) => a.at - b.at);
  const current = order.map(() => 0);
  let ci = 0;
  for (; ci < changes.length && changes[ci]!.at < start; ci++) current[index.get(changes[ci]!.label)!]! += changes[ci]!.delta;
  for (let b = 0; b < buckets.length; b++) {
    const end = buckets[b]! + bucketMs;
    for (; ci < changes.length && changes[ci]!.at < end; ci++) {
      const c = changes[ci]!;
      const i = index.get(c.label)!;
      current[i]! += c.delta;
      if (c.at < from) continue;
      if (c.delta === 1) entries[i]![b]!++;
      else {
        exits[i]![b]!++;
        if (c.heldFor !== undefined && c.heldFor < opts.flapWindowMs) {
          flaps[i]!++;
          flappers[i]!.add(c.customer);
        }
      }
    }
    for (let i = 0; i < order.length; i++) population[i]![b] = current[i]!;
  }

  // The current sets, for populations now and the overlap matrix.
  const holders = order.map(() => new Set<string>());
  let customersWithLabel = 0;
  for (const [customer, labels] of holding) {
    if (labels.size) customersWithLabel++;
    for (const l of labels.keys()) holders[index.get(l)!]!.add(customer);
  }
  const customers = holding.size;
  const overlap = holders.map((a) => holders.map((b) => (a.size ? [...a].filter((c) => b.has(c)).length / a.size : 0)));

  const labels: LabelStats[] = order.map((name, i) => ({
    label: name,
    category: categoryOf.get(name) ?? '?',
    population: holders[i]!.size,
    share: customers ? holders[i]!.size / customers : 0,
    entries: entries[i]!.reduce((a, b) => a + b, 0),
    exits: exits[i]!.reduce((a, b) => a + b, 0),
    flaps: flaps[i]!,
    flappingCustomers: flappers[i]!.size,
    everAssigned: everAssigned.get(name) ?? 0,
    ...(ruleNames ? { inRules: ruleNames.has(name) } : {}),
  }));

  const warnings: string[] = [];
  let categories: Record<string, number> = {};
  if (opts.rules) {
    for (const l of opts.rules.labels) categories[l.category] = (categories[l.category] ?? 0) + 1;
    for (const [c, n] of Object.entries(categories)) {
      if (n >= perCategoryLimit) {
        warnings.push(`Category '${c}' has ${n} labels: the governance advice is fewer than ${perCategoryLimit} per category. Over-segmented audiences are hard to act on; merge or retire some.`);
      }
    }
    const gone = labels.filter((l) => l.inRules === false && l.population > 0).map((l) => l.label);
    if (gone.length) warnings.push(`Held by customers but not in ${opts.rules.source}: ${gone.join(', ')} (from an earlier rule set).`);
    if (![...versions.keys()].includes(opts.rules.version) && events) warnings.push(`No event was decided by ${opts.rules.source}'s version ${opts.rules.version}: is that file the one deployed?`);
  } else categories = {};
  if (versions.size > 1) warnings.push(`${versions.size} rules versions decided these events: populations may jump where the rules changed.`);

  const neverFired = labels.filter((l) => l.everAssigned === 0).map((l) => l.label);
  const almostEveryone = customers >= 10 ? labels.filter((l) => l.share >= almostAll).map((l) => l.label) : [];
  for (const l of labels) {
    if (l.exits >= 5 && l.flaps / l.exits >= 0.25) {
      warnings.push(`'${l.label}' flaps: ${l.flaps} of its ${l.exits} exits came within ${formatSpan(opts.flapWindowMs)} of the entry. Hysteresis (a lower exit threshold) or a minimum dwell would steady it.`);
    }
  }

  return {
    topic: opts.topic,
    generatedAt: opts.now,
    from,
    to,
    bucketMs,
    buckets,
    events,
    duplicates,
    noOps,
    customers,
    customersWithLabel,
    firstEventAt: first,
    lastEventAt: last,
    labels,
    population,
    entriesPerBucket: entries,
    exitsPerBucket: exits,
    overlap,
    neverFired,
    almostEveryone,
    rulesVersions: [...versions].map(([version, v]) => ({ version, ...v })).sort((a, b) => a.first - b.first),
    rules: opts.rules ? { source: opts.rules.source, version: opts.rules.version, categories } : null,
    warnings,
    flapWindowMs: opts.flapWindowMs,
  };
}
