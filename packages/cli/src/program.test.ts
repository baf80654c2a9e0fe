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

const source = (file: string): string => readFileSync(join(__dirname, 'commands', file), 'utf8');

/** The names of the environment variables a piece of source reads (`process.env.NAME`), once per read. */
const envNames = (text: string): string[] => [...text.matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]!);

/**
 * The variables each exported function of environment.ts reads: a command reads them when
 * it calls the function. (environment.ts is imported by every command, so its variables
 * belong to the callers of the function that reads them, not to every importer.)
 */
function helperReads(): Map<string, string[]> {
  const text = source('environment.ts');
  const helpers = new Map<string, string[]>();
  for (const m of text.matchAll(/^export function (\w+)\([\s\S]*?^\}$/gm)) helpers.set(m[1]!, envNames(m[0]));
  // A read outside those functions would be attributed to no command.
  expect([...helpers.values()].flat().length).toBe(envNames(text).length);
  return helpers;
}

/** The environment variables a command's source files read (`process.env.NAME`), directly or through a helper they call. */
function envRead(files: string[]): string[] {
  const helpers = helperReads();
  const names = files.flatMap((f) => {
    const text = source(f);
    const called = [...helpers].filter(([fn]) => new RegExp(`\\b${fn}\\(`).test(text));
    return [...envNames(text), ...called.flatMap(([, vars]) => vars)];
  });
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

  it('attributes the colour helper\'s variable to the commands that call it, and to no other', () => {
    expect(helperReads().get('colorOutput')).toEqual(['NO_COLOR']);
    expect(envRead(['explain.ts'])).toContain('NO_COLOR');
    expect(envRead(['watch.ts'])).toContain('NO_COLOR');
    expect(envRead(['report.ts'])).not.toContain('NO_COLOR');
  });

  it('lists every command', () => {
    const text = help([]);
    for (const c of ['rules', 'explain', 'generate', 'watch', 'report']) expect(text).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
