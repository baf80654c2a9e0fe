import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the real servers of an integration test run. */
export interface StackEnv {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  redisUrl: string;
  /** How the connections were found: environment, the native stack's env file, or testcontainers. */
  source: 'env' | 'native-stack' | 'testcontainers';
}

export const HOW_TO_START = [
  'Integration tests need a real Kafka, schema registry and Redis. Either:',
  '  - run the whole suite with `pnpm test` (it starts the native stack itself), or',
  '  - start it with `pnpm stack up` and export its connections: `eval "$(pnpm -s stack env)"`, or',
  '  - set KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL to servers of your own, or',
  '  - run on a machine with a Docker engine (testcontainers starts them).',
].join('\n');

function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = join(dir, '..');
  }
  return process.cwd();
}

function fromEnv(env: NodeJS.ProcessEnv): Omit<StackEnv, 'source'> | undefined {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL } = env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !REDIS_URL) return undefined;
  return { kafkaBrokers: KAFKA_BROKERS.split(',').map((s) => s.trim()), schemaRegistryUrl: SCHEMA_REGISTRY_URL, redisUrl: REDIS_URL };
}

/** Reads `.stack/env` (KEY=value lines written by `pnpm stack up`). */
function fromNativeStackFile(): Omit<StackEnv, 'source'> | undefined {
  const file = join(process.env.LABELSTREAM_STACK_DIR ?? join(repoRoot(), '.stack'), 'env');
  if (!existsSync(file)) return undefined;
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z_]+)=["']?([^"']*)["']?$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return fromEnv(vars);
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the stack for integration tests: the environment first, then the native stack's
 * env file, then testcontainers when a Docker engine runs; otherwise fails at once with
 * instructions (never a hang).
 */
export function resolveStackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv | 'docker' {
  const e = fromEnv(env);
  if (e) return { ...e, source: 'env' };
  const n = fromNativeStackFile();
  if (n) return { ...n, source: 'native-stack' };
  if (dockerAvailable()) return 'docker';
  throw new Error(`No stack configured.\n${HOW_TO_START}`);
}
