/**
 * What the deployment-asset tests (deploy-assets.test.ts for compose, Prometheus, Grafana and
 * the Dockerfile; k8s-manifests.test.ts for deploy/k8s) share: the repository root, the three
 * services with their config loaders and default ports, and a probe of the variables a loader reads.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadEvaluatorConfig, loadIngestConfig, loadPublisherConfig, type CommonConfig, type Env } from './index';

export const ROOT = resolve(__dirname, '../../..');
export const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8');

/** The least environment every loader accepts. */
export const minimalEnv: Env = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', REDIS_URL: 'redis://127.0.0.1:6379' };

export interface ServiceUnderTest {
  name: 'ingest' | 'evaluator' | 'publisher';
  load: (env: Env) => CommonConfig;
  /** The config default of HTTP_PORT (metrics, health, admin). */
  port: number;
  /** Compose services it must start after. */
  needs: string[];
}

export const SERVICES: ReadonlyArray<ServiceUnderTest> = [
  { name: 'ingest', load: loadIngestConfig, port: 9464, needs: ['kafka', 'schema-registry'] },
  { name: 'evaluator', load: loadEvaluatorConfig, port: 9465, needs: ['kafka', 'schema-registry', 'redis'] },
  { name: 'publisher', load: loadPublisherConfig, port: 9466, needs: ['kafka', 'schema-registry'] },
];

/** Runs `fn` with an env that records every variable name it reads. */
export function variablesRead(fn: (env: Env) => unknown, env: Env): Set<string> {
  const seen = new Set<string>();
  const probe = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') seen.add(key);
      return target[key as string];
    },
  });
  fn(probe);
  return seen;
}
