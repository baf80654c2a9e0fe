/**
 * Runs the built services as real child processes (what an operator runs), for end-to-end
 * and fault tests: free ports, readiness awaited with a bound, output kept for diagnosis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, waitFor } from '@labelstream/testkit';

export { freePort };

const ROOT = join(__dirname, '..', '..');

export type ServiceName = 'ingest' | 'evaluator' | 'publisher';

/** The topic variables of a whole pipeline whose topics all carry the prefix `p` (the services' environment names). */
export function pipelineTopics(p: string) {
  return {
    TOPIC_RAW_PURCHASES: `${p}.purchases`,
    TOPIC_RAW_EMAIL_CLICKS: `${p}.email-clicks`,
    TOPIC_RAW_SUPPORT_TICKETS: `${p}.support-tickets`,
    TOPIC_CUSTOMER_EVENTS: `${p}.customer-events`,
    TOPIC_DLQ: `${p}.dlq`,
    TOPIC_DECISIONS: `${p}.decisions`,
    TOPIC_LABEL_EVENTS: `${p}.label-events`,
    TOPIC_CUSTOMER_LABELS: `${p}.customer-labels`,
  };
}

export interface RunningService {
  name: ServiceName;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code (null when killed). */
  stop: (ms?: number) => Promise<number | null>;
  kill: () => Promise<void>;
  metrics: () => Promise<string>;
}


function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `services/<name>/dist/main.js` with `env` and waits until /readyz answers 200. */
export async function startService(name: ServiceName, env: Record<string, string>, opts: { readyTimeoutMs?: number } = {}): Promise<RunningService> {
  const port = Number(env.HTTP_PORT) || (await freePort());
  let out = '';
  const child = spawn(process.execPath, [join(ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const svc: RunningService = {
    name,
    port,
    child,
    output: () => out,
    async stop(ms = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited(child);
      clearTimeout(t);
      return code;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
  };
  try {
    await waitFor(
      `${name} to become ready on :${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${out.slice(-3000)}`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r?.status === 200;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 200 },
    );
  } catch (e) {
    await svc.kill();
    throw new Error(`${(e as Error).message}\n--- ${name} output ---\n${out.slice(-3000)}`);
  }
  return svc;
}

/** Sum of a metric's samples in Prometheus text, optionally filtered by label values. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Runs `services/<name>/dist/main.js` with `env` until it exits by itself (or `timeoutMs`
 * passes, then SIGKILL): for start-up failures. Resolves with the exit code, everything it
 * printed, and how long it ran.
 */
export async function runUntilExit(name: ServiceName, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  let out = '';
  const child = spawn(process.execPath, [join(ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(await freePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close', not 'exit': the last lines of output have been read by then
  const code = await new Promise<number | null>((resolve) => child.once('close', (c: number | null) => resolve(c)));
  clearTimeout(timer);
  return { code, output: out, ms: Date.now() - started };
}
