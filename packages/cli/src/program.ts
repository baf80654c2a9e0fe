import { Command } from 'commander';
import { registerRules } from './commands/rules';
import { registerExplain } from './commands/explain';
import { registerGenerate } from './commands/generate';
import { registerWatch } from './commands/watch';
import { registerReport } from './commands/report';

/** The `labelstream` command with every subcommand (nothing runs until it is parsed). */
export function createProgram(): Command {
  const program = new Command('labelstream').description('Labelstream: streaming CRM labels').showHelpAfterError();
  registerRules(program);
  registerExplain(program);
  registerGenerate(program);
  registerWatch(program);
  registerReport(program);
  return program;
}
