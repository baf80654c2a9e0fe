export { createLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { createMetrics } from './metrics';
export type { Metrics } from './metrics';
export { startHttpServer, tokenMatches } from './http-server';
export type { AdminRoute, HealthReport, HttpServerOptions } from './http-server';
export { scrub, scrubText, serializeError, isSensitiveKey, REDACTED } from './redact';
