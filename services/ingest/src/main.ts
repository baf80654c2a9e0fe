/**
 * Ingest service: the composition root. Reads config from the environment (and compiles the
 * ingest policy from it), builds the logger and metrics, and hands composeIngest to the
 * shared service lifecycle (start, ready, fatal, drain, exit code). Everything else lives in
 * ./compose, ./ingest and packages/.
 */
import { loadIngestConfig } from '@labelstream/config';
import { createLogger, createMetrics } from '@labelstream/observability';
import { configOrExit, runService } from '@labelstream/service-runtime';
import { composeIngest } from './compose';
import { policyFromConfig } from './policy';

const { config, policy } = configOrExit('ingest', () => {
  const c = loadIngestConfig(process.env);
  return { config: c, policy: policyFromConfig(c) };
});
const logger = createLogger({ service: 'ingest', level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics('ingest');
runService({
  name: 'ingest',
  logger,
  metrics,
  http: { host: config.http.host, port: config.http.port },
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  compose: (hooks) => composeIngest(config, { logger, metrics, hooks, policy }),
});
