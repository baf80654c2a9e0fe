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

/** A length of time: `30s` under a minute, else as {@link ago} (`3d 4h`). */
export function span(ms: number): string {
  return ms < 60_000 ? `${Math.max(0, Math.round(ms / 1000))}s` : ago(ms);
}

function value(v: FeatureValue | undefined): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function featureList(f: Record<string, FeatureValue>): string {
  return Object.entries(f)
    .map(([k, v]) => `${k} = ${value(v)}`)
    .join(', ');
}

function groupLine(g: NonNullable<LabelExplanation['group']>): string {
  if (g.outcome === 'winner') return `group ${g.name}: wins over the others`;
  if (g.outcome === 'suppressed') return `group ${g.name}: qualifies, but ${g.suppressedBy ?? 'a higher-priority label'} takes precedence`;
  return `group ${g.name}: does not qualify`;
}

/** A condition and the values it read: `spend_90d >= 50000  (spend_90d = 60000)`. */
function conditionWithValues(c: { source: string; error?: string }, l: LabelExplanation): string {
  const values = featureList(l.features);
  return `${c.source}${values ? `  (${values})` : ''}${c.error ? `  error: ${c.error}` : ''}`;
}

/**
 * The WHY cell of one label: for a held label the condition that holds it with the values
 * that decided it, then what takes it away; for one not held what it needs and the values
 * now. Then dwell, group and a pending change, one line each.
 */
function why(l: LabelExplanation, at: number): Array<{ text: string; style?: keyof typeof ANSI }> {
  const out: Array<{ text: string; style?: keyof typeof ANSI }> = [];
  if (l.held) {
    if (l.dwellUntil !== null) out.push({ text: `kept by its minimum stay until ${when(l.dwellUntil)} (in ${span(l.dwellUntil - at)}); it no longer qualifies: ${conditionWithValues(l.enter, l)}`, style: 'yellow' });
    else out.push({ text: `${l.enter.holds ? 'qualifies' : 'no longer qualifies'}: ${conditionWithValues(l.enter, l)}` });
    out.push({ text: l.exit.explicit ? `leaves when ${l.exit.source}` : 'leaves when it no longer qualifies', style: 'dim' });
  } else {
    out.push({ text: `${l.enter.holds ? 'qualifies' : 'needs'}: ${conditionWithValues(l.enter, l)}` });
  }
  if (l.minDwellMs > 0 && l.dwellUntil === null) out.push({ text: `minimum stay ${span(l.minDwellMs)}`, style: 'dim' });
  if (l.group && !(l.group.outcome === 'not-holding' && !l.held)) out.push({ text: groupLine(l.group), style: l.group.outcome === 'suppressed' ? 'yellow' : 'dim' });
  if (l.change) out.push({ text: `! ${l.change === 'ASSIGNED' ? 'would be assigned' : 'would be removed'} at the next evaluation (${l.reason ?? 'no reason given'})`, style: 'yellow' });
  return out;
}

/** One column of the label table: its header and each label's cell (one or more lines). */
interface Column {
  readonly header: string;
  readonly cell: (l: LabelExplanation, at: number) => Array<{ text: string; style?: keyof typeof ANSI }>;
}

/**
 * The label table's columns, in order. The last one is not padded (it may be long). A
 * further column (e.g. the rules version a label was decided under) is one more entry.
 */
const COLUMNS: readonly Column[] = [
  { header: 'LABEL', cell: (l) => [{ text: l.label, style: 'bold' }, { text: l.category, style: 'dim' }] },
  { header: 'HELD', cell: (l) => [l.held ? { text: 'yes', style: 'green' } : { text: 'no', style: 'dim' }] },
  { header: 'SINCE', cell: (l, at) => (l.held && l.since !== null ? [{ text: when(l.since) }, { text: `${ago(at - l.since)} ago`, style: 'dim' }] : [{ text: '–', style: 'dim' }]) },
  { header: 'WHY', cell: why },
];

/** Renders labels as a table: one row per label, cells of several lines side by side. */
function labelTable(paint: Paint, labels: readonly LabelExplanation[], at: number): string[] {
  const rows = labels.map((l) => COLUMNS.map((c) => c.cell(l, at)));
  const widths = COLUMNS.map((c, i) => Math.max(c.header.length, ...rows.map((r) => Math.max(...r[i]!.map((x) => x.text.length)))));
  const gap = '  ';
  const line = (cells: Array<{ text: string; style?: keyof typeof ANSI } | undefined>) =>
    cells
      .map((x, i) => {
        const text = x?.text ?? '';
        const padded = i === cells.length - 1 ? text : text.padEnd(widths[i]!);
        return x?.style ? paint(x.style, text) + padded.slice(text.length) : padded;
      })
      .join(gap)
      .replace(/\s+$/, '');
  const out = [line(COLUMNS.map((c) => ({ text: c.header, style: 'bold' as const })))];
  for (const r of rows) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k])));
  }
  return out;
}

/**
 * Renders the evaluator's explanation of one customer for a person: a table of its labels —
 * held ones first — with since when and why (the condition with the feature values that
 * decided it, what takes it away, dwell, group outcome, a pending change), then the next
 * time-based check, every feature value and the recent decisions with their causes.
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
    paint('bold', held.length ? `Holds ${held.length} label${held.length === 1 ? '' : 's'}: ${held.map((l) => l.label).join(', ')}` : 'Holds no label') +
      (held[0]?.decidedUnder ? paint('dim', `  (decided under rules ${held[0].decidedUnder})`) : ''),
    '',
    // Held labels first, then the rest, each group in the rules' order.
    ...labelTable(paint, [...held, ...notHeld], ex.at),
    '',
  ];
  for (const w of answer.warmingUp ?? []) {
    lines.push(`${paint('yellow', '!')} feature ${w.feature} is warming up after a rules change: ${w.until === null ? 'lifetime, never whole' : `full from ${when(w.until)}`}; labels reading it decide on partial history unless they hold (whileWarming: hold)`, '');
  }
  if (ex.undefinedLabels.length) {
    lines.push(`${paint('yellow', '!')} held but no longer in the rules (removed at the next evaluation): ${ex.undefinedLabels.join(', ')}`, '');
  }
  if (ex.nextDueAt !== null) lines.push(`Next time-based check: ${when(ex.nextDueAt)} (in ${span(ex.nextDueAt - ex.at)}), without any new event`, '');
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
