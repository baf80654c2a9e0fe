/**
 * The figures of a fault run: what went in, what the oracle expects, what came out, and
 * how the two compare per customer. Pure: everything read from Kafka is passed in.
 */
import { basename } from 'node:path';
import type { CustomerEvent, LabelEvent } from '@labelstream/contracts';
import { compareSequences, type ChangeKey, type CustomerOutcome } from '@labelstream/oracle';
import type { PartitionSwitch, RulesDeployRecord } from './rules-deploy';

export interface RunInputs {
  sent: { raw: number; validIds: ReadonlySet<string>; malformed: number; duplicateCopies: number; late: number; sendErrors: number };
  /** Canonical events, each customer's in partition order (duplicates included). */
  canonical: readonly CustomerEvent[];
  /** DLQ records' source positions (`topic/partition/offset`). */
  dlqSources: readonly string[];
  /** Public label events in topic order (per partition). */
  labelEvents: readonly LabelEvent[];
  /** Oracle outcome per customer. */
  oracle: ReadonlyMap<string, CustomerOutcome>;
  /** Changes with effectiveAt after this are not compared (not all due yet when the run stopped). */
  horizon: number;
}

export interface Figures {
  eventsIn: { rawMessages: number; validEvents: number; malformed: number; duplicateCopies: number; lateSent: number; sendRetries: number };
  ingest: { canonicalRecords: number; distinctEvents: number; validLost: number; invented: number; deadLettered: number };
  evaluation: { customers: number; applied: number; late: number; duplicatesSkipped: number };
  labelEvents: {
    expected: number;
    expectedTimeBased: number;
    published: number;
    duplicates: number;
    missing: number;
    unexplained: number;
    outOfOrder: number;
    afterHorizon: number;
  };
  /** Up to 20 examples of each discrepancy, for diagnosis. */
  examples: { lost: string[]; invented: string[]; missing: string[]; unexplained: string[]; outOfOrder: string[] };
}

/** A change as compared: also its rules version and cause kind, so an evaluation under the wrong version or of the wrong kind does not match. */
const key = (e: Pick<ChangeKey, 'label' | 'change' | 'effectiveAt' | 'causeEventId' | 'rulesVersion' | 'cause'>): ChangeKey => ({
  label: e.label,
  change: e.change,
  effectiveAt: e.effectiveAt,
  causeEventId: e.causeEventId,
  ...(e.rulesVersion !== undefined ? { rulesVersion: e.rulesVersion } : {}),
  ...(e.cause !== undefined ? { cause: e.cause } : {}),
});
const show = (customerId: string, c: ChangeKey) => `${customerId} ${c.change === 'ASSIGNED' ? '+' : '-'}${c.label} @${new Date(c.effectiveAt).toISOString()} ${c.causeEventId ?? (c.cause ?? 'timer').toLowerCase()} ${c.rulesVersion ?? ''}`.trimEnd();

export function figures(i: RunInputs): Figures {
  const distinct = new Set(i.canonical.map((e) => e.eventId));
  const lost = [...i.sent.validIds].filter((id) => !distinct.has(id));
  const invented = [...distinct].filter((id) => !i.sent.validIds.has(id));
  let applied = 0;
  let late = 0;
  let dups = 0;
  for (const o of i.oracle.values()) {
    applied += o.applied;
    late += o.late;
    dups += o.duplicates;
  }

  // Published: de-duplicated by eventId (first copy), per customer in topic order.
  const seen = new Set<string>();
  let duplicates = 0;
  let afterHorizon = 0;
  const actual = new Map<string, ChangeKey[]>();
  for (const e of i.labelEvents) {
    if (seen.has(e.eventId)) {
      duplicates++;
      continue;
    }
    seen.add(e.eventId);
    if (e.effectiveAt > i.horizon) {
      afterHorizon++;
      continue;
    }
    const list = actual.get(e.customerId) ?? [];
    list.push(key({ label: e.label, change: e.type === 'LABEL_ASSIGNED' ? 'ASSIGNED' : 'REMOVED', effectiveAt: e.effectiveAt, causeEventId: e.causeEventId, rulesVersion: e.rulesVersion, cause: e.cause }));
    actual.set(e.customerId, list);
  }

  let expected = 0;
  let expectedTimeBased = 0;
  let missing = 0;
  let unexplained = 0;
  let outOfOrder = 0;
  const ex = { lost: lost.slice(0, 20), invented: invented.slice(0, 20), missing: [] as string[], unexplained: [] as string[], outOfOrder: [] as string[] };
  const customers = new Set([...i.oracle.keys(), ...actual.keys()]);
  for (const customerId of customers) {
    const want = (i.oracle.get(customerId)?.changes ?? []).filter((c) => c.effectiveAt <= i.horizon).map(key);
    const got = actual.get(customerId) ?? [];
    const cmp = compareSequences(want, got);
    expected += want.length;
    expectedTimeBased += want.filter((c) => c.causeEventId === null).length;
    missing += cmp.missing.length;
    unexplained += cmp.unexplained.length;
    outOfOrder += cmp.outOfOrder;
    for (const c of cmp.missing) if (ex.missing.length < 20) ex.missing.push(show(customerId, c));
    for (const c of cmp.unexplained) if (ex.unexplained.length < 20) ex.unexplained.push(show(customerId, c));
    if (cmp.outOfOrder > 0 && ex.outOfOrder.length < 20) ex.outOfOrder.push(`${customerId}: ${cmp.outOfOrder}`);
  }

  return {
    eventsIn: { rawMessages: i.sent.raw, validEvents: i.sent.validIds.size, malformed: i.sent.malformed, duplicateCopies: i.sent.duplicateCopies, lateSent: i.sent.late, sendRetries: i.sent.sendErrors },
    ingest: { canonicalRecords: i.canonical.length, distinctEvents: distinct.size, validLost: lost.length, invented: invented.length, deadLettered: new Set(i.dlqSources).size },
    evaluation: { customers: i.oracle.size, applied, late, duplicatesSkipped: dups },
    labelEvents: { expected, expectedTimeBased, published: seen.size, duplicates, missing, unexplained, outOfOrder, afterHorizon },
    examples: ex,
  };
}

/** The promise: nothing lost, nothing invented, nothing twice, nothing out of order. */
export function verdict(f: Figures, unexpectedExits: number): string[] {
  const problems: string[] = [];
  if (f.ingest.validLost) problems.push(`${f.ingest.validLost} valid events never reached the canonical topic`);
  if (f.ingest.invented) problems.push(`${f.ingest.invented} canonical events were never sent as valid events`);
  if (f.ingest.deadLettered < f.eventsIn.malformed) problems.push(`${f.eventsIn.malformed} malformed messages sent, only ${f.ingest.deadLettered} dead-lettered`);
  if (f.labelEvents.missing) problems.push(`${f.labelEvents.missing} label events missing`);
  if (f.labelEvents.unexplained) problems.push(`${f.labelEvents.unexplained} label events unexplained`);
  if (f.labelEvents.duplicates) problems.push(`${f.labelEvents.duplicates} duplicate label events (by eventId)`);
  if (f.labelEvents.outOfOrder) problems.push(`${f.labelEvents.outOfOrder} label events out of order`);
  if (unexpectedExits) problems.push(`${unexpectedExits} service processes exited without being killed`);
  return problems;
}

/** The figures as the lines the run prints. */
export function formatFigures(f: Figures): string {
  const l = f.labelEvents;
  return [
    `events in:            ${f.eventsIn.rawMessages} raw messages = ${f.eventsIn.validEvents} valid events + ${f.eventsIn.malformed} malformed + ${f.eventsIn.duplicateCopies} re-sent copies (${f.eventsIn.lateSent} sent 1-40 s late; ${f.eventsIn.sendRetries} send retries)`,
    `ingest:               ${f.ingest.distinctEvents} distinct events in ${f.ingest.canonicalRecords} canonical records, ${f.ingest.validLost} valid events lost, ${f.ingest.invented} invented, ${f.ingest.deadLettered} dead-lettered`,
    `evaluation (oracle):  ${f.evaluation.customers} customers, ${f.evaluation.applied} events applied, ${f.evaluation.late} late, ${f.evaluation.duplicatesSkipped} duplicates skipped`,
    `label events expected: ${l.expected} (${l.expectedTimeBased} time-based)`,
    `label events published: ${l.published} distinct (+ ${l.afterHorizon} after the horizon, not compared)`,
    `missing:      ${l.missing}`,
    `unexplained:  ${l.unexplained}`,
    `duplicates:   ${l.duplicates}`,
    `out of order: ${l.outOfOrder}`,
  ].join('\n');
}

/** The rules deploy of a `--rules-deploy` run (rules-deploy.ts): what was deployed, where each partition switched, the sweep, and the controls. */
export interface RulesDeployFigures {
  deploy: RulesDeployRecord | null;
  /** Each partition's switch point and sweep as Redis holds them at the end. */
  switches: readonly PartitionSwitch[];
  /** Label events with cause RULES_CHANGED, and the customers they are about (the one thing the oracle takes from the run). */
  sweepLabelEvents: number;
  sweptCustomers: number;
  /** Label events decided under the deployed version (any cause). */
  underNewRules: number;
  /** The comparison against oracles that get the switch wrong: must not all be 0 (the check can fail). */
  controls: ReadonlyArray<{ what: string; missing: number; unexplained: number; outOfOrder: number }>;
}

const iso = (t: number | null) => (t === null ? '—' : new Date(t).toISOString().slice(11, 23));

/** The rules-deploy lines the run prints. */
export function formatRulesDeploy(r: RulesDeployFigures): string {
  const d = r.deploy;
  return [
    d ? `rules deploy:  ${d.fromVersion} → ${d.toVersion}; ${d.kill}` : 'rules deploy:  did not run',
    `switch points: ${r.switches.map((s) => `p${s.partition} @${s.nextOffset ?? '?'} timers≤${iso(s.timersUntil)} swept ${s.swept}${s.sweepDone ? '' : ' (not done)'}`).join(', ')}`,
    `sweep:         ${r.sweepLabelEvents} RULES_CHANGED label events for ${r.sweptCustomers} customers; ${r.underNewRules} label events under the new version`,
    ...r.controls.map((c) => `control (${c.what}): ${c.missing} missing, ${c.unexplained} unexplained, ${c.outOfOrder} out of order`),
  ].join('\n');
}

function rulesDeploySection(r: RulesDeployFigures): string[] {
  const d = r.deploy;
  const t0 = d?.deployedAt ?? 0;
  const rel = (t: number) => `+${s1(t - t0)} s`;
  // A dozen evenly spaced samples of the sweep's progress.
  const samples = d ? d.progress.filter((_, i, all) => i === all.length - 1 || i % Math.max(1, Math.ceil(all.length / 12)) === 0) : [];
  return [
    '## Rules deploy',
    '',
    ...(d
      ? [
          `\`labelstream rules deploy\` of the run's rules edited (${basename(d.file)}: ${d.fromVersion} → ${d.toVersion}: high_value enters at 450.00 instead of 500.00, label \`busy\` added); all partitions switched ${rel(d.allSwitchedAt)}; during the sweep: ${d.kill}; every sweep done ${rel(d.sweepDoneAt)}.`,
          '',
        ]
      : ['The deploy did not run.', '']),
    '| partition | switched at | first offset under the new rules | timers fired under the old rules up to | customers swept | sweep done |',
    '|---|---|---|---|---|---|',
    ...r.switches.map((s) => `| ${s.partition} | ${iso(s.switchedAt)} | ${s.nextOffset ?? '—'} | ${iso(s.timersUntil)} | ${s.swept} | ${s.sweepDone ? 'yes' : 'no'} |`),
    '',
    ...(samples.length ? [`Sweep progress (customers swept, partitions done): ${samples.map((p) => `${rel(p.at)} ${p.swept} (${p.partitionsDone})`).join(', ')}.`, ''] : []),
    `${r.sweepLabelEvents} label events with cause RULES_CHANGED for ${r.sweptCustomers} customers; ${r.underNewRules} label events in all under the new version.`,
    '',
    'Controls — the same comparison against oracles that get the switch wrong (non-zero: the check can fail):',
    '',
    '| oracle | missing | unexplained | out of order |',
    '|---|---|---|---|',
    ...r.controls.map((c) => `| ${c.what} | ${c.missing} | ${c.unexplained} | ${c.outOfOrder} |`),
    '',
  ];
}

/** "Whole again" per kind of fault: how many, p50 and max seconds from the fault to recovery. */
export interface Recovery {
  kind: string;
  count: number;
  p50Ms: number;
  maxMs: number;
}

/** Recovery per kind of fault, in the order kinds first occurred (p50 by nearest rank). */
export function recoveryByKind(faults: ReadonlyArray<{ kind: string; startedAt: number; recoveredAt: number }>): Recovery[] {
  const byKind = new Map<string, number[]>();
  for (const f of faults) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.recoveredAt - f.startedAt]);
  return [...byKind].map(([kind, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return { kind, count: sorted.length, p50Ms: sorted[Math.ceil(sorted.length / 2) - 1]!, maxMs: sorted[sorted.length - 1]! };
  });
}

const s1 = (ms: number) => (ms / 1000).toFixed(1);

/** The recovery lines the run prints. */
export function formatRecovery(r: readonly Recovery[]): string {
  return r.map((x) => `whole again:  ${x.kind.padEnd(16)} ×${x.count}  p50 ${s1(x.p50Ms)} s, max ${s1(x.maxMs)} s`).join('\n');
}

export interface RunRecord {
  run: string;
  /** e.g. "ci", "long", "redis-cluster", "redis-cluster-wait1". */
  kind: string;
  commit: string;
  /** Node version the services ran on. */
  node: string;
  /** ISO date of the run's start. */
  startedAt: string;
  minutes: number;
  /** The run's options as a command line (flags only). */
  command: string;
  figures: Figures;
  recovery: readonly Recovery[];
  faults: ReadonlyArray<{ kind: string; startedAt: number; recoveredAt: number; detail: string; stops?: ReadonlyArray<{ id: string; code: number | string; ms: number; forced: boolean }> }>;
  starts: Record<string, number>;
  unexpectedExits: number;
  problems: readonly string[];
  rulesDeploy?: RulesDeployFigures;
}

/** The report as committed under docs/runs/ (the evidence RELIABILITY.md links to). Pure. */
export function markdownReport(r: RunRecord): string {
  const l = r.figures.labelEvents;
  const stops = r.faults.flatMap((f) => f.stops ?? []);
  const lines = [
    `# Fault run ${r.startedAt.slice(0, 10)} — ${r.kind} — ${r.commit}`,
    '',
    `Written by the fault run (test/faults/run.ts) itself; \`${r.command}\`, run \`${r.run}\`, ${r.minutes.toFixed(1)} min, Node ${r.node}.`,
    '',
    `**${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'PASSED: 0 missing, 0 unexplained, 0 duplicates, 0 out of order'}**`,
    '',
    '| figure | value |',
    '|---|---|',
    `| raw messages sent | ${r.figures.eventsIn.rawMessages} (${r.figures.eventsIn.validEvents} valid, ${r.figures.eventsIn.malformed} malformed, ${r.figures.eventsIn.duplicateCopies} re-sent copies, ${r.figures.eventsIn.lateSent} late) |`,
    `| valid events lost / invented at ingest | ${r.figures.ingest.validLost} / ${r.figures.ingest.invented} |`,
    `| dead-lettered | ${r.figures.ingest.deadLettered} |`,
    `| customers, events applied (oracle) | ${r.figures.evaluation.customers}, ${r.figures.evaluation.applied} |`,
    `| label events expected (time-based) | ${l.expected} (${l.expectedTimeBased}) |`,
    `| label events published | ${l.published} (+ ${l.afterHorizon} after the horizon) |`,
    `| missing | ${l.missing} |`,
    `| unexplained | ${l.unexplained} |`,
    `| duplicates | ${l.duplicates} |`,
    `| out of order | ${l.outOfOrder} |`,
    `| service starts | ${Object.entries(r.starts).map(([k, n]) => `${k} ${n}`).join(', ')}; unexpected exits ${r.unexpectedExits} |`,
    '',
    '## Whole again, per kind of fault',
    '',
    '| fault | count | p50 | max |',
    '|---|---|---|---|',
    ...r.recovery.map((x) => `| ${x.kind} | ${x.count} | ${s1(x.p50Ms)} s | ${s1(x.maxMs)} s |`),
    '',
    ...(stops.length
      ? ['SIGTERM stops (scale-down): ' + stops.map((s) => `${s.id} exit ${s.code} in ${s.ms} ms${s.forced ? ' (SIGKILLed)' : ''}`).join(', '), '']
      : []),
    ...(r.problems.length
      ? ['## Examples', '', ...Object.entries(r.figures.examples).flatMap(([k, v]) => (v.length ? [`- ${k}: ${v.slice(0, 10).join('; ')}`] : [])), '']
      : []),
    ...(r.rulesDeploy ? rulesDeploySection(r.rulesDeploy) : []),
    '## Faults',
    '',
    ...r.faults.map((f) => `- ${f.kind}: ${f.detail} (whole again after ${s1(f.recoveredAt - f.startedAt)} s)`),
    '',
  ];
  return lines.join('\n');
}
