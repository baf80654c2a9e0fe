/** One problem found while validating a rules file. */
export interface RuleIssue {
  /** Dotted path inside the file, e.g. `labels.high_value.enter` or `features.spend_90d.window`. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the rules file, when known. */
  readonly line?: number;
  /** 1-based column in the rules file, when known. */
  readonly column?: number;
  /** The label the problem belongs to, when it belongs to one. */
  readonly label?: string;
}

/**
 * Thrown by {@link loadRules} when a rules file is not valid. Never retriable: the file
 * itself must change. `issues` lists every problem found, not just the first.
 */
export class RulesError extends Error {
  readonly code = 'RULES_INVALID';
  readonly retriable = false;
  constructor(
    readonly issues: readonly RuleIssue[],
    readonly source: string = '<rules>',
  ) {
    super(`${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'} in rules file:\n${formatIssues(issues)}`);
    this.name = 'RulesError';
  }
}

/** Thrown by {@link readRulesFile} when the file cannot be read at all. */
export class RulesFileError extends Error {
  readonly code = 'RULES_FILE_UNREADABLE';
  readonly retriable = false;
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot read rules file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RulesFileError';
  }
}

/** Renders issues one per line as `  - path (line:col): message`. */
export function formatIssues(issues: readonly RuleIssue[]): string {
  return issues
    .map((i) => {
      const where = i.line !== undefined ? ` (${i.line}:${i.column ?? 1})` : '';
      return `  - ${i.path}${where}: ${i.message}`;
    })
    .join('\n');
}
