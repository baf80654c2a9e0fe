/**
 * The rules package's only I/O: reading a rules file from disk, for the CLI
 * (`labelstream rules check`) and for services that load rules at start-up.
 */
import { readFileSync } from 'node:fs';
import { loadRules, parseRules } from './compile';
import { formatDuration } from '@labelstream/duration';
import { RulesFileError, formatIssues, type RuleIssue } from './errors';
import { lintRules, type LintWarning } from './lint';
import type { CompiledRules, LintOptions } from './types';

/** A short description of valid rules, for humans and the CLI. */
export interface RulesSummary {
  readonly source: string;
  readonly version: string;
  readonly hash: string;
  readonly allowedLateness: string;
  readonly features: number;
  readonly labels: number;
  readonly groups: number;
  /** Label count per category. */
  readonly categories: Readonly<Record<string, number>>;
}

/** Result of {@link checkRulesFile}. `ok` is false when the file is unreadable or invalid; warnings never fail it. */
export interface CheckRulesResult {
  readonly ok: boolean;
  readonly errors: readonly RuleIssue[];
  readonly warnings: readonly LintWarning[];
  readonly summary: RulesSummary | null;
}

/**
 * Reads and compiles a rules file.
 * @throws RulesFileError when the file cannot be read; RulesError when it is invalid.
 */
export function readRulesFile(path: string): CompiledRules {
  return loadRules(readText(path), { source: path });
}

/** Validates and lints a rules file; never throws. Used by `labelstream rules check [file]`. */
export function checkRulesFile(path: string, lint: LintOptions = {}): CheckRulesResult {
  let text: string;
  try {
    text = readText(path);
  } catch (e) {
    return { ok: false, errors: [{ path: '(file)', message: (e as Error).message }], warnings: [], summary: null };
  }
  return checkRulesText(text, path, lint);
}

/** {@link checkRulesFile} for text already in memory. */
export function checkRulesText(text: string, source: string, lint: LintOptions = {}): CheckRulesResult {
  const result = parseRules(text, { source });
  if (!result.ok) return { ok: false, errors: result.issues, warnings: [], summary: null };
  return { ok: true, errors: [], warnings: lintRules(result.rules, lint), summary: summarizeRules(result.rules) };
}

/** Summarises compiled rules. */
export function summarizeRules(rules: CompiledRules): RulesSummary {
  const categories: Record<string, number> = {};
  for (const l of rules.labels) categories[l.category] = (categories[l.category] ?? 0) + 1;
  return {
    source: rules.source,
    version: rules.version,
    hash: rules.hash,
    allowedLateness: formatDuration(rules.allowedLatenessMs),
    features: rules.features.length,
    labels: rules.labels.length,
    groups: rules.groups.length,
    categories,
  };
}

/** Renders a check result as the CLI prints it. */
export function formatCheckResult(result: CheckRulesResult): string {
  const lines: string[] = [];
  if (result.summary) {
    const s = result.summary;
    const cats = Object.entries(s.categories).map(([c, n]) => `${c} ${n}`).join(', ');
    lines.push(`${s.source}: OK — version ${s.version}, ${s.features} features, ${s.labels} labels (${cats}), ${s.groups} groups, lateness ${s.allowedLateness}`);
    lines.push(`hash ${s.hash}`);
  }
  if (result.errors.length > 0) {
    lines.push(`${result.errors.length} error${result.errors.length === 1 ? '' : 's'}:`, formatIssues(result.errors));
  }
  if (result.warnings.length > 0) {
    lines.push(`${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}:`);
    for (const w of result.warnings) lines.push(`  - [${w.code}] ${w.message}`);
  }
  return lines.join('\n');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new RulesFileError(path, e);
  }
}
