import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { createProgram } from './program';

/** What `labelstream <path> --help` prints, captured (commander exits through an exception here). */
function help(path: string[]): string {
  let out = '';
  const program = createProgram();
  const quiet = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  try {
    program.parse(['node', 'labelstream', ...path, '--help']);
  } catch (e) {
    if (!(e instanceof CommanderError) || e.code !== 'commander.helpDisplayed') throw e;
  }
  return out;
}

/** The environment variables a command's source files read (`process.env.NAME`). */
function envRead(files: string[]): string[] {
  const names = files.flatMap((f) => [...readFileSync(join(__dirname, 'commands', f), 'utf8').matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]!));
  return [...new Set(names)].sort();
}

describe('labelstream --help', () => {
  it.each([
    [['rules', 'check'], ['rules.ts']],
    [['explain'], ['explain.ts']],
    [['generate'], ['generate.ts']],
    [['rules', 'deploy'], ['rules-live.ts']],
    [['rules', 'rollback'], ['rules-live.ts']],
    [['rules', 'status'], ['rules-live.ts']],
    [['rules', 'diff'], ['rules-diff.ts', 'rules-live.ts', 'kafka-source.ts']],
    [['watch'], ['watch.ts', 'kafka-source.ts']],
    [['report'], ['report.ts', 'kafka-source.ts']],
  ])('%j names every environment variable the command reads', (path, files) => {
    const text = help(path);
    expect(text).toContain(`Usage: labelstream ${path.join(' ')}`);
    const section = text.slice(text.indexOf('Environment:'));
    const read = envRead(files);
    expect(read.length).toBeGreaterThan(0);
    for (const name of read) expect(section).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('lists every command', () => {
    const text = help([]);
    for (const c of ['rules', 'explain', 'generate', 'watch', 'report']) expect(text).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
