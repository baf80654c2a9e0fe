import type { Command } from 'commander';
import { checkRulesFile } from '@labelstream/rules';

/** `labelstream rules check [file]`: validation and over-segmentation lint before deploy. */
export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with rules files');
  rules
    .command('check')
    .description('validate a rules file and lint it for over-segmentation; exits non-zero on errors')
    .argument('[file]', 'rules file', 'rules/default.yaml')
    .option('--json', 'machine-readable output')
    .option('--strict', 'treat warnings as errors')
    .action((file: string, opts: { json?: boolean; strict?: boolean }) => {
      const result = checkRulesFile(file);
      if (opts.json) {
        console.log(JSON.stringify(result, null, 2));
      } else {
        for (const e of result.errors) console.log(`error   ${formatIssue(e)}`);
        for (const w of result.warnings) console.log(`warning ${formatIssue(w)}`);
        console.log(result.ok ? `ok: ${file} ${summaryLine(result.summary)}` : `FAILED: ${file} has ${result.errors.length} error(s)`);
      }
      if (!result.ok || (opts.strict && result.warnings.length)) process.exitCode = 1;
    });
}

function formatIssue(i: unknown): string {
  if (typeof i === 'string') return i;
  const o = i as Record<string, unknown>;
  const where = [o.label ? `label ${String(o.label)}` : '', o.path ? String(o.path) : '', o.line ? `line ${String(o.line)}${o.column ? `:${String(o.column)}` : ''}` : '']
    .filter(Boolean)
    .join(', ');
  return `${where ? `[${where}] ` : ''}${String(o.message ?? JSON.stringify(o))}`;
}

function summaryLine(summary: unknown): string {
  return summary ? JSON.stringify(summary) : '';
}
