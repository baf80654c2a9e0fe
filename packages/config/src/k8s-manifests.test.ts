/**
 * Renders every overlay of deploy/k8s with kubectl's kustomize and checks what the schema
 * validation in deploy/validate.sh cannot know: the pods run as the image's non-root user
 * with a read-only root filesystem; probes, ports and scraping match the services' config
 * defaults; each KEDA ScaledObject watches its service's own consumer group and input topics
 * and stops at the topic's partition count; every environment variable a container gets is
 * one its config loader reads, credentials come from Secrets only, and the loader accepts it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { loadEvaluatorConfig, loadIngestConfig, loadPublisherConfig, type Env } from './index';
import { read, ROOT, SERVICES, variablesRead, type ServiceUnderTest } from './deploy-assets.test-helper';

interface Meta {
  name: string;
  labels?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; seccompProfile?: { type: string } };
  automountServiceAccountToken?: boolean;
  volumes?: Array<{ name: string; emptyDir?: unknown; secret?: { secretName: string } }>;
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}
interface Trigger {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string; kind?: string };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  triggers: Trigger[];
}
interface TriggerAuthSpec {
  secretTargetRef?: Array<{ parameter: string; name: string; key: string }>;
}

const OVERLAYS = ['dev', 'secure', 'large'] as const;
const LOADERS = { ingest: loadIngestConfig, evaluator: loadEvaluatorConfig, publisher: loadPublisherConfig };
/** Variables that carry credentials: only ever from a Secret. */
const SECRET_VARIABLES = /PASSWORD|TOKEN|USERNAME|^REDIS_URL$/;

/** kubectl's built-in kustomize (kustomize v5): the renderer deploy/validate.sh uses. */
function render(overlay: string): Manifest[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', resolve(ROOT, 'deploy/k8s/overlays', overlay)], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`kubectl kustomize deploy/k8s/overlays/${overlay} failed (kubectl >= 1.27 must be on PATH): ${(e as Error).message}`);
  }
  return parseAllDocuments(out).map((d) => d.toJS() as Manifest);
}

const find = <T>(docs: Manifest[], kind: string, name: string): T => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name}`);
  return doc.spec as T;
};

/** The container's environment as Kubernetes would give it, with placeholders for Secret values. */
function containerEnv(docs: Manifest[], c: Container): { env: Env; fromSecret: Map<string, { name: string; key: string; optional: boolean }> } {
  const env: Env = {};
  const fromSecret = new Map<string, { name: string; key: string; optional: boolean }>();
  for (const from of c.envFrom ?? []) {
    expect(from.secretRef).toBeUndefined(); // secrets by name only, so each is visible here
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === from.configMapRef?.name);
    expect(cm).toBeDefined();
    Object.assign(env, cm?.data);
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef;
    if (ref) {
      fromSecret.set(v.name, { name: ref.name, key: ref.key, optional: ref.optional ?? false });
      env[v.name] = v.name === 'REDIS_URL' ? 'rediss://labelstream:placeholder@redis:6380' : 'placeholder-secret-value-0123456789';
    } else {
      expect(v.valueFrom).toBeUndefined();
      env[v.name] = v.value;
    }
  }
  return { env, fromSecret };
}

/** KEDA's name of a SASL mechanism (its Kafka scaler's `sasl`), from ours (KAFKA_SASL_MECHANISM). */
const kedaSasl = (mechanism: string): string => (mechanism === 'plain' ? 'plaintext' : mechanism.replace('scram-sha-', 'scram_sha'));

/** A heap flag and a Kubernetes quantity in MiB. */
const heapMiB = (args: string[]): number => Number(/^--max-old-space-size=(\d+)$/.exec(args.find((a) => a.startsWith('--max-old-space-size=')) ?? '')?.[1]);
function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The image's user, from the Dockerfile's USER line. */
const imageUid = Number(/^USER (\d+):(\d+)$/m.exec(read('deploy/docker/Dockerfile'))?.[1]);

const examples = parseAllDocuments(read('deploy/k8s/examples/credentials.yaml')).map((d) => d.toJS() as Manifest);
const exampleKeys = (name: string): string[] => Object.keys(examples.find((d) => d.kind === 'Secret' && d.metadata.name === name)?.stringData ?? {});

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  const docs = render(overlay);

  it('renders a Deployment, Service, PodDisruptionBudget, ScaledObject and ServiceMonitor per service, nothing else but config', () => {
    for (const { name } of SERVICES) {
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'ScaledObject', 'ServiceMonitor']) {
        expect(docs.filter((d) => d.kind === kind && d.metadata.name === `labelstream-${name}`)).toHaveLength(1);
      }
    }
    expect(new Set(docs.map((d) => d.kind))).toEqual(
      new Set(['ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget', 'ScaledObject', 'ServiceMonitor', ...(overlay === 'dev' ? [] : ['TriggerAuthentication'])]),
    );
    // Credentials are never rendered into the manifests: the Secrets are created apart.
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
  });

  describe.each(SERVICES)('$name', ({ name, port }: ServiceUnderTest) => {
    const deployment = find<DeploymentSpec>(docs, 'Deployment', `labelstream-${name}`);
    const pod = deployment.template.spec;
    const container = pod.containers[0] as Container;
    const load = LOADERS[name];

    it('runs as the image user, non-root, read-only, without privileges or capabilities', () => {
      expect(pod.containers).toHaveLength(1);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid, runAsGroup: imageUid, seccompProfile: { type: 'RuntimeDefault' } });
      expect(imageUid).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(container.securityContext).toEqual({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      // The one writable place, /tmp, is an emptyDir.
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      for (const m of container.volumeMounts ?? []) if (m.mountPath !== '/tmp') expect(m.readOnly).toBe(true);
    });

    it('runs its own main file from the image, on a tagged image', () => {
      expect(container.args?.at(-1)).toBe(`services/${name}/dist/main.js`);
      expect(existsSync(resolve(ROOT, `services/${name}/src/main.ts`))).toBe(true);
      expect(container.image).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
    });

    it('probes /healthz (startup, liveness) and /readyz (readiness) on the config default port, which the Service and ServiceMonitor use', () => {
      const { env } = containerEnv(docs, container);
      const http = container.ports?.find((p) => p.name === 'http');
      expect(http?.containerPort).toBe(port);
      expect(load(withReadableFiles(env)).http.port).toBe(port);
      expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });

      const service = find<{ selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> }>(docs, 'Service', `labelstream-${name}`);
      expect(service.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
      expect(deployment.template.metadata.labels).toMatchObject(service.selector);
      expect(deployment.template.metadata.labels).toMatchObject(deployment.selector.matchLabels);

      const monitor = find<{ selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> }>(docs, 'ServiceMonitor', `labelstream-${name}`);
      expect(monitor.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
      const serviceLabels = docs.find((d) => d.kind === 'Service' && d.metadata.name === `labelstream-${name}`)?.metadata.labels;
      expect(serviceLabels).toMatchObject(monitor.selector.matchLabels);
      // The job label is the Service name, which the alerts select (job=~"labelstream-.+").
      expect(read('deploy/prometheus/alerts.yml')).toContain('job=~"labelstream-.+"');
    });

    it('has CPU and memory requests and limits, memory limit = request, and a heap well under it', () => {
      const r = container.resources;
      expect(r?.requests?.cpu).toBeDefined();
      expect(r?.limits?.cpu).toBeDefined();
      expect(r?.limits?.memory).toBe(r?.requests?.memory);
      // Off-heap (fetch buffers, code) measured at up to ~210 MiB (docs/RELIABILITY.md): the
      // heap bound leaves at least 30 % of the limit for it.
      expect(heapMiB(container.args ?? [])).toBeLessThanOrEqual(0.7 * mebibytes(r?.limits?.memory ?? ''));
      expect(heapMiB(container.args ?? [])).toBeGreaterThanOrEqual(256);
    });

    it('gets only variables its config loader reads, credentials only from Secrets, and the loader accepts them', () => {
      const { env, fromSecret } = containerEnv(docs, container);
      const readable = withReadableFiles(env);
      const seen = variablesRead(load, readable);
      expect(Object.keys(env).filter((k) => !seen.has(k))).toEqual([]);
      for (const k of Object.keys(env)) if (SECRET_VARIABLES.test(k)) expect(fromSecret.has(k)).toBe(true);
      expect(load(readable).service).toBe(name);
      // Every file a variable names lies in a read-only mount of a Secret.
      for (const [k, v] of Object.entries(env)) {
        if (!k.endsWith('_FILE') || !v) continue;
        const mount = container.volumeMounts?.find((m) => v.startsWith(`${m.mountPath}/`));
        expect(mount?.readOnly).toBe(true);
        expect(pod.volumes?.find((vol) => vol.name === mount?.name)?.secret).toBeDefined();
      }
      // Required Secret keys are in the example Secret the README tells operators to fill in.
      for (const ref of fromSecret.values()) {
        if (!ref.optional) expect(exampleKeys(ref.name)).toContain(ref.key);
      }
    });

    it('scales with KEDA on the lag of its own consumer group and input topics, from at least 1 up to the partition count', () => {
      const { env } = containerEnv(docs, container);
      const config = load(withReadableFiles(env)) as ReturnType<typeof loadIngestConfig>;
      const so = find<ScaledObjectSpec>(docs, 'ScaledObject', `labelstream-${name}`);
      expect(so.scaleTargetRef.name).toBe(`labelstream-${name}`);
      expect(so.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
      // A replica beyond the partitions would idle; a minimum of 0 would stop the
      // evaluator's timers (time-based label changes need no input event).
      expect(so.maxReplicaCount).toBe(config.topicDefaults.partitions);
      expect(so.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so.minReplicaCount).toBeLessThanOrEqual(so.maxReplicaCount ?? 0);
      // Kubernetes owns no replica count of its own: KEDA's HPA does.
      expect(deployment.replicas).toBeUndefined();

      const inputs =
        name === 'ingest' ? Object.values(config.rawTopics) : name === 'evaluator' ? [config.topics.customerEvents] : [config.topics.decisions];
      expect(so.triggers.map((t) => t.metadata.topic).sort()).toEqual([...inputs].sort());
      for (const t of so.triggers) {
        expect(t.type).toBe('kafka');
        expect(t.metadata.consumerGroup).toBe((config as unknown as { groupId: string }).groupId);
        expect(Object.keys(env)).toContain(t.metadata.bootstrapServersFromEnv);
        expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
        expect(t.metadata.allowIdleConsumers).toBe('false');
        if (config.kafka.sasl) {
          // KEDA reads the lag as the services do: SASL mechanism, TLS, same user and CA.
          expect(t.metadata.sasl).toBe(kedaSasl(config.kafka.sasl.mechanism));
          expect(t.metadata.tls).toBe(config.kafka.ssl ? 'enable' : 'disable');
          const auth = find<TriggerAuthSpec>(docs, 'TriggerAuthentication', t.authenticationRef?.name ?? '');
          const param = (p: string) => auth.secretTargetRef?.find((r) => r.parameter === p);
          const { fromSecret } = containerEnv(docs, container);
          expect(param('username')).toMatchObject({ name: fromSecret.get('KAFKA_SASL_USERNAME')?.name, key: fromSecret.get('KAFKA_SASL_USERNAME')?.key });
          expect(param('password')).toMatchObject({ name: fromSecret.get('KAFKA_SASL_PASSWORD')?.name, key: fromSecret.get('KAFKA_SASL_PASSWORD')?.key });
          const ca = param('ca');
          expect(pod.volumes?.find((v) => v.secret?.secretName === ca?.name)).toBeDefined();
          expect(exampleKeys(ca?.name ?? '')).toContain(ca?.key);
        } else {
          expect(t.metadata.sasl).toBeUndefined();
          expect(t.authenticationRef).toBeUndefined();
        }
      }
    });

    it('has a PodDisruptionBudget over its pods that lets one go at a time', () => {
      const pdb = find<{ maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } }>(docs, 'PodDisruptionBudget', `labelstream-${name}`);
      expect(pdb.maxUnavailable).toBe(1);
      expect(deployment.template.metadata.labels).toMatchObject(pdb.selector.matchLabels);
    });
  });

  if (overlay !== 'dev') {
    it('speaks SASL_SSL to Kafka and TLS to Redis with the CA from the Secret', () => {
      for (const { name, load } of SERVICES) {
        const c = find<DeploymentSpec>(docs, 'Deployment', `labelstream-${name}`).template.spec.containers[0] as Container;
        const config = load(withReadableFiles(containerEnv(docs, c).env));
        expect(config.kafka.sasl?.mechanism).toBe('scram-sha-512');
        expect(config.kafka.ssl).toEqual({ ca: [expect.any(String)] });
        if (name === 'evaluator') {
          const ev = loadEvaluatorConfig(withReadableFiles(containerEnv(docs, c).env));
          expect(ev.redis.tlsCa).toHaveLength(1);
        }
      }
    });
  }
});

/** The file variables (`*_FILE`) pointed at a file that exists here, so the loader can read it. */
function withReadableFiles(env: Env): Env {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('_FILE') && v ? __filename : v]));
}

describe('deploy/k8s/overlays/large', () => {
  it('is sized as docs/SCALING.md estimates for 100 000 events/s', () => {
    const docs = render('large');
    // Rows of the summary table of docs/SCALING.md, e.g. "| minimum replicas (…) | 9 / 24 / 9 |".
    const scaling = read('docs/SCALING.md');
    const row = (label: string): number[] => {
      const line = scaling.split('\n').find((l) => l.startsWith(`| ${label} |`));
      if (!line) throw new Error(`docs/SCALING.md has no row "${label}"`);
      return (line.slice(`| ${label} |`.length, -1).split('/')).map((c) => Number(c.trim()));
    };
    const [ingest, evaluator, publisher] = row('minimum replicas (ingest / evaluator / publisher)');
    const [partitions] = row('partitions per pipeline topic');
    expect({
      ingest: find<ScaledObjectSpec>(docs, 'ScaledObject', 'labelstream-ingest').minReplicaCount,
      evaluator: find<ScaledObjectSpec>(docs, 'ScaledObject', 'labelstream-evaluator').minReplicaCount,
      publisher: find<ScaledObjectSpec>(docs, 'ScaledObject', 'labelstream-publisher').minReplicaCount,
      partitions: Number(docs.find((d) => d.kind === 'ConfigMap')?.data?.TOPIC_PARTITIONS),
    }).toEqual({ ingest, evaluator, publisher, partitions });
  });
});

describe('deploy/k8s/examples/credentials.yaml', () => {
  it('holds only keys some manifest reads, and no real secret', () => {
    const used = new Set<string>();
    for (const overlay of OVERLAYS) {
      const text = JSON.stringify(render(overlay));
      for (const m of text.matchAll(/"key":"([^"]+)"/g)) used.add(m[1] ?? '');
    }
    for (const name of ['labelstream-credentials', 'labelstream-tls']) {
      for (const key of exampleKeys(name)) expect(used).toContain(key);
    }
    for (const d of examples) {
      for (const [k, v] of Object.entries(d.stringData ?? {})) {
        if (SECRET_VARIABLES.test(k) && !k.endsWith('USERNAME')) expect(v).toMatch(/change-me/);
        if (k.endsWith('.crt')) expect(v).toMatch(/your CA certificate/);
      }
    }
    // The example is not part of any overlay: applying an overlay never overwrites real credentials.
    for (const overlay of OVERLAYS) expect(JSON.stringify(parse(read(`deploy/k8s/overlays/${overlay}/kustomization.yaml`)))).not.toContain('examples');
  });
});
