/**
 * Publisher service: the composition root. Reads config and the webhook destinations (with
 * their secrets) from the environment, builds the logger and metrics, and hands
 * composePublisher to the shared service lifecycle (start, ready, fatal, drain, exit code).
 * All logic lives in publisher.ts and webhook-dispatcher.ts.
 */
import { readFileSync } from 'node:fs';
import { loadPublisherConfig } from '@labelstream/config';
import { createLogger, createMetrics } from '@labelstream/observability';
import { parseWebhookDestinations, type WebhookDestination } from '@labelstream/publishing';
import { configOrExit, runService } from '@labelstream/service-runtime';
import { composePublisher } from './compose';

function loadDestinations(file: string | undefined): Array<{ destination: WebhookDestination; secret: string }> {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`WEBHOOKS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const destinations = parseWebhookDestinations(text, file);
  const missing = destinations.filter((d) => !process.env[d.secretEnv]);
  if (missing.length) throw new Error(missing.map((d) => `${d.secretEnv}: is required (HMAC secret of webhook destination "${d.name}")`).join('\n'));
  return destinations.map((destination) => ({ destination, secret: process.env[destination.secretEnv]! }));
}

const { config, webhooks } = configOrExit('publisher', () => {
  const c = loadPublisherConfig(process.env);
  return { config: c, webhooks: loadDestinations(c.webhooksFile) };
});
const logger = createLogger({ service: 'publisher', level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics('publisher');
runService({
  name: 'publisher',
  logger,
  metrics,
  http: { host: config.http.host, port: config.http.port },
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  compose: (hooks) => composePublisher(config, { logger, metrics, hooks, webhooks }),
});
