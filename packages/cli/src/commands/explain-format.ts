import type { Explanation, LabelExplanation } from '@labelstream/engine';
import type { FeatureValue } from '@labelstream/rules';

/** One recent decision as the evaluator's history keeps it (services/evaluator/src/decisions.ts `HistoryItem`). */
export interface ExplainHistoryItem {
  readonly at: number;
  /** `<EVENT_TYPE> <eventId>`, `timer` or `rules changed`. */
  readonly cause: string;
  /** `+label` / `-label`, with the reason in parentheses unless it is the plain enter / exit. */
  readonly changes: readonly string[];
  readonly rules: string;
}

/**
 * The evaluator's answer to `GET /admin/customers/<id>`. `explanation` is the engine's own
 * {@link Explanation} type, so a change there breaks this formatter's build instead of its output.
 */
export interface ExplainAnswer {
  readonly found?: true;
  readonly partition: number;
  readonly version: number;
  readonly explanation: Explanation;
  readonly recentDecisions: ReadonlyArray<ExplainHistoryItem | { readonly raw: string }>;
  /** Features a rules change started empty, not full yet (absent from older evaluators). */
  readonly warmingUp?: ReadonlyArray<{ readonly feature: string; readonly until: number | null }>;
}

export interface ExplainFormatOptions {
  /** ANSI colours (only when printing to a terminal). */
  readonly color: boolean;
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', green: '\x1b[32m', red: '\x1b[31m', yellow: '\x1b[33m', cyan: '\x1b[36m', reset: '\x1b[0m' };
type Paint = (style: keyof typeof ANSI, s: string) => string;

/** `2026-12-06 20:58 UTC`. */
function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3d 4h`, `25m`, `just now`: the largest two units. */
export function ago(ms: number): string {
  if (ms < 60_000) return ms < 0 ? 'in the future' : 'just now';
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]];
  const parts: string[] = [];
  let rest = ms;
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length) parts.push(`${n}${u}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.filter((p) => !p.startsWith('0')).join(' ');
}

function value(v: FeatureValue | undefined): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function featureList(f: Record<string, FeatureValue>): string {
  const entries = Object.entries(f);
  return entries.length ? entries.map(([k, v]) => `${k} = ${value(v)}`).join(', ') : 'no features';
}

function condition(paint: Paint, c: { source: string; holds: boolean; error?: string }): string {
  const verdict = c.error ? paint('red', `error: ${c.error}`) : c.holds ? paint('green', 'true') : paint('dim', 'false');
  return `${c.source}  → ${verdict}`;
}

function groupLine(g: NonNullable<LabelExplanation['group']>): string {
  if (g.outcome === 'winner') return `${g.name}: this label wins the group`;
  if (g.outcome === 'suppressed') return `${g.name}: qualifies, but ${g.suppressedBy ?? 'a higher-priority label'} takes precedence`;
  return `${g.name}: does not qualify`;
}

function dwellLine(l: LabelExplanation, at: number): string | null {
  if (l.minDwellMs <= 0) return null;
  const min = `minimum stay ${ago(l.minDwellMs)}`;
  if (l.dwellUntil !== null) return `kept by its ${min} until ${when(l.dwellUntil)} (${ago(l.dwellUntil - at)} from now), although it no longer qualifies`;
  return min;
}

function labelBlock(paint: Paint, l: LabelExplanation, at: number): string[] {
  const held = l.held;
  const mark = held ? paint('green', '●') : paint('dim', '○');
  const head = `${mark} ${paint('bold', l.label)}  ${paint('dim', `[${l.category}]`)}`;
  const since = held && l.since !== null ? `  since ${when(l.since)} (${ago(at - l.since)} ago)` : '';
  const under = held && l.decidedUnder !== null ? paint('dim', `  rules ${l.decidedUnder}`) : '';
  const lines = [`${head}${since}${under}`];
  const row = (key: string, text: string) => lines.push(`    ${paint('dim', key.padEnd(8))}${text}`);
  if (l.description) row('what', l.description);
  if (held) {
    // Why it is held: the entry condition; what would take it away: the exit condition.
    row('entered', condition(paint, l.enter));
    row('leaves', `${condition(paint, l.exit)}${l.exit.explicit ? '' : paint('dim', '  (no exit rule: leaves when it no longer qualifies)')}`);
  } else {
    row('enters', condition(paint, l.enter));
    if (l.exit.explicit) row('leaves', condition(paint, l.exit));
  }
  row('reads', featureList(l.features));
  const dwell = dwellLine(l, at);
  if (dwell) row('dwell', dwell);
  if (l.group) row('group', groupLine(l.group));
  if (l.change) {
    const verb = l.change === 'ASSIGNED' ? paint('green', 'would be assigned') : paint('red', 'would be removed');
    row('change', `${paint('yellow', '!')} ${verb} at the next evaluation (${l.reason ?? 'no reason given'})`);
  } else if (!held && l.reason) {
    row('note', l.reason);
  }
  return lines;
}

/**
 * Renders the evaluator's explanation of one customer for a person: held labels first (since
 * when and why), then the labels not held (what they would need), each with the features it
 * reads and their values, pending changes, dwell and group outcome, then the recent decisions.
 */
export function formatExplanation(customerId: string, answer: ExplainAnswer, opts: ExplainFormatOptions = { color: false }): string {
  const paint: Paint = opts.color ? (style, s) => `${ANSI[style]}${s}${ANSI.reset}` : (_style, s) => s;
  const ex = answer.explanation;
  const held = ex.labels.filter((l) => l.held);
  const notHeld = ex.labels.filter((l) => !l.held);
  const lines = [
    `${paint('bold', `customer ${customerId}`)}  rules ${ex.rulesVersion}, as of ${when(ex.at)}`,
    paint('dim', `partition ${answer.partition}, state version ${answer.version}, last event at ${when(ex.clock)}`),
    '',
    paint('bold', held.length ? `Holds ${held.length} label${held.length === 1 ? '' : 's'}` : 'Holds no label'),
  ];
  for (const l of held) lines.push(...labelBlock(paint, l, ex.at), '');
  for (const w of answer.warmingUp ?? []) {
    lines.push(`${paint('yellow', '!')} feature ${w.feature} is warming up after a rules change: ${w.until === null ? 'lifetime, never whole' : `full from ${when(w.until)}`}; labels reading it decide on partial history`, '');
  }
  if (ex.undefinedLabels.length) {
    lines.push(`${paint('yellow', '!')} held but no longer in the rules (removed at the next evaluation): ${ex.undefinedLabels.join(', ')}`, '');
  }
  if (notHeld.length) {
    lines.push(paint('bold', `Does not hold (${notHeld.length})`));
    for (const l of notHeld) lines.push(...labelBlock(paint, l, ex.at), '');
  }
  if (ex.nextDueAt !== null) lines.push(`Next time-based check: ${when(ex.nextDueAt)} (${ago(ex.nextDueAt - ex.at)} from now), without any new event`, '');
  lines.push(paint('bold', 'All features'));
  const width = Math.max(0, ...Object.keys(ex.features).map((k) => k.length));
  for (const [k, v] of Object.entries(ex.features)) lines.push(`  ${k.padEnd(width)}  ${value(v)}`);
  if (answer.recentDecisions.length) {
    lines.push('', paint('bold', 'Recent changes (newest first)'));
    for (const r of answer.recentDecisions) {
      if ('raw' in r) lines.push(`  ${paint('dim', r.raw)}`);
      else {
        const changes = r.changes.map((c) => (c.startsWith('+') ? paint('green', c) : paint('red', c))).join(' ');
        const cause = r.cause === 'timer' ? 'time-based (no new event)' : r.cause;
        lines.push(`  ${when(r.at)}  ${changes}  ${paint('dim', `caused by ${cause}, rules ${r.rules}`)}`);
      }
    }
  }
  return lines.join('\n').replace(/\n+$/, '');
}
