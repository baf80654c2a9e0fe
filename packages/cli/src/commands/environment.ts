import type { Command } from 'commander';

/** An environment variable a command reads, and what for. */
export type EnvVar = readonly [name: string, meaning: string];

/** The variables of the commands that read a topic through the registry (see kafka-source.ts). */
export const KAFKA_SOURCE_ENV: readonly EnvVar[] = [
  ['KAFKA_BROKERS', 'default for --brokers'],
  ['SCHEMA_REGISTRY_URL', 'default for --registry'],
];

/** The variables {@link colorOutput} reads: every command that calls it lists them. */
export const COLOR_ENV: readonly EnvVar[] = [['NO_COLOR', 'no colours even on a terminal']];

/**
 * Whether to colour what goes to `stream`: on a terminal only (not in a log file or a pipe),
 * and never with NO_COLOR set to anything but the empty string (https://no-color.org).
 */
export function colorOutput(stream: { isTTY?: boolean } = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** The variables of the commands that talk to the evaluators' Redis (`rules deploy | rollback | status | diff`). */
export const REDIS_ENV: readonly EnvVar[] = [
  ['REDIS_URL', 'default for --redis'],
  ['REDIS_KEY_PREFIX', 'default for --prefix'],
];

/**
 * Adds an "Environment:" section to the command's --help naming every variable it reads
 * (or saying it reads none), and an optional note after it.
 */
export function withEnvironment(cmd: Command, vars: readonly EnvVar[], note?: string): Command {
  const width = Math.max(0, ...vars.map(([n]) => n.length));
  const body = vars.length ? `Environment:\n${vars.map(([n, m]) => `  ${n.padEnd(width)}  ${m}`).join('\n')}` : 'Environment: none read.';
  return cmd.addHelpText('after', `\n${body}${note ? `\n\n${note}` : ''}`);
}
