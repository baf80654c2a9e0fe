import type { Command } from 'commander';
import { checkRulesFile, formatCheckResult } from '@labelstream/rules';
import { registerRulesDiff } from './rules-diff';
import { registerRulesLive } from './rules-live';
import { withEnvironment } from './environment';

/** `labelstream rules check [file]`: validation and over-segmentation lint before deploy. */
export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with rules files');
  withEnvironment(
    rules
      .command('check')
      .description('validate a rules file and lint it for over-segmentation; exits non-zero on errors')
      .argument('[file]', 'rules file', process.env.RULES_FILE ?? 'rules/default.yaml')
      .option('--json', 'machine-readable output')
      .option('--strict', 'treat warnings as errors'),
    [['RULES_FILE', 'default for [file] (as the evaluator reads it)']],
  ).action((file: string, opts: { json?: boolean; strict?: boolean }) => {
      const result = checkRulesFile(file);
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatCheckResult(result) || `${file}: FAILED`);
      if (!result.ok || (opts.strict && result.warnings.length)) process.exitCode = 1;
    });
  registerRulesLive(rules);
  registerRulesDiff(rules);
}
