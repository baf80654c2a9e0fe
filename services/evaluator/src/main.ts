/**
 * Evaluator service: the composition root. Reads config from the environment, builds the
 * logger and metrics, and hands composeEvaluator to the shared service lifecycle (start,
 * ready, fatal, drain, exit code). Everything else lives in ./compose and packages/.
 */
import { loadEvaluatorConfig } from '@labelstream/config';
import { createLogger, createMetrics } from '@labelstream/observability';
import { configOrExit, runService } from '@labelstream/service-runtime';
import { composeEvaluator } from './compose';

const config = configOrExit('evaluator', () => loadEvaluatorConfig(process.env));
const logger = createLogger({ service: 'evaluator', level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics('evaluator');
runService({
  name: 'evaluator',
  logger,
  metrics,
  http: { host: config.http.host, port: config.http.port, ...(config.adminToken ? { adminToken: config.adminToken } : {}) },
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  compose: (hooks) => composeEvaluator(config, { logger, metrics, hooks }),
});
