/**
 * Runs the built services as real child processes (what an operator runs), for end-to-end
 * and fault tests: free ports, readiness awaited with a bound, output kept for diagnosis.
 */
import { freePort, runServiceUntilExit, spawnService, type ServiceName, type ServiceProcess } from '@labelstream/testkit';

export { freePort };
export type { ServiceName };

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

/** A built service running as a child process (see @labelstream/testkit spawnService). */
export type RunningService = ServiceProcess;

/** Starts `services/<name>/dist/main.js` with `env` and waits until /readyz answers 200. */
export function startService(name: ServiceName, env: Record<string, string>, opts: { readyTimeoutMs?: number; logFile?: string } = {}): Promise<RunningService> {
  return spawnService(name, { env, ...opts });
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

export { runServiceUntilExit as runUntilExit };
