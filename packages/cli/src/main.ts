#!/usr/bin/env node
/**
 * The `labelstream` command (`pnpm labelstream …`): rules check, explain, generate, watch, report.
 * A command-line tool is a composition root too, so it may read the environment.
 */
import { Command } from 'commander';
import { registerRules } from './commands/rules';
import { registerExplain } from './commands/explain';
import { registerGenerate } from './commands/generate';
import { registerWatch } from './commands/watch';
import { registerReport } from './commands/report';

const program = new Command('labelstream').description('Labelstream: streaming CRM labels').showHelpAfterError();
registerRules(program);
registerExplain(program);
registerGenerate(program);
registerWatch(program);
registerReport(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
