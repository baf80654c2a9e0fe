/**
 * Checks the deployment assets against the code they deploy: docker-compose.yml against
 * the config loaders (variables, ports), Prometheus and Grafana against the metrics that
 * createMetrics() registers, the alerts against the runbook, and the Dockerfile against
 * the services it runs. The real tools' own validators (promtool, docker compose config,
 * a Dockerfile linter) run in deploy/validate.sh; this test covers what they cannot know.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '@labelstream/observability';
import { loadEvaluatorConfig, type Env } from './index';
import { minimalEnv, read, ROOT, SERVICES, variablesRead } from './deploy-assets.test-helper';

// YAML 1.1 merge keys (`<<: *anchor`) are part of the Compose format.
const readYaml = (path: string): unknown => parse(read(path), { merge: true });

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
  profiles?: string[];
  user?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
}
interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
}
interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}
interface RuleTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}
interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}
interface TemplateVar {
  name: string;
  type: string;
  query: string | { query: string };
  current?: { value: string | string[] };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: TemplateVar[] };
}

/**
 * Compose's variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$$`),
 * evaluated against `hostEnv`: what the container's environment would be.
 */
function interpolate(value: string, hostEnv: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_]\w*)/g, (m, braced, colon, op, arg, bare) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare) as string;
    const v = hostEnv[name];
    const missing = v === undefined || (colon === ':' && v === '');
    if (!missing) return v;
    if (op === '-') return arg as string;
    if (op === '?') throw new Error(`compose variable ${name} is required: ${arg}`);
    return '';
  });
}

/** The environment a compose service's container gets, with no host variables set. */
function containerEnv(service: ComposeService, hostEnv: Env = {}): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) {
    env[k] = v === null ? hostEnv[k] : interpolate(String(v), hostEnv);
  }
  return env;
}

/** `"127.0.0.1:9464:9464"` or `"9464:9464/tcp"` → host and container port. */
function parsePort(mapping: string): { host: number; container: number } {
  const parts = mapping.replace(/\/(tcp|udp)$/, '').split(':');
  return { host: Number(parts[parts.length - 2]), container: Number(parts[parts.length - 1]) };
}

/** Metric names a PromQL expression mentions (Labelstream's own, by prefix). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\blabelstream_[a-z0-9_]+/g)].map((m) => m[0]);
}

/** Label names used in `{…}` selectors of Labelstream metrics, with their metric. */
function selectorLabels(expr: string): Array<{ metric: string; label: string }> {
  const out: Array<{ metric: string; label: string }> = [];
  for (const m of expr.matchAll(/\b(labelstream_[a-z0-9_]+)\{([^}]*)\}/g)) {
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) out.push({ metric: m[1] ?? '', label: l[1] ?? '' });
  }
  return out;
}

/** Label names in `by (…)` / `without (…)` / `on (…)` / `ignoring (…)` clauses. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const compose = readYaml('docker-compose.yml') as Compose;
const prometheus = readYaml('deploy/prometheus/prometheus.yml') as PrometheusConfig;
const prometheusNative = readYaml('deploy/prometheus/prometheus-native.yml') as PrometheusConfig;
const alerts = readYaml('deploy/prometheus/alerts.yml') as RuleFile;
const alertTests = readYaml('deploy/prometheus/alerts.test.yml') as RuleTests;
const dashboard = JSON.parse(read('deploy/grafana/dashboards/labelstream.json')) as Dashboard;
const dockerfile = read('deploy/docker/Dockerfile');
const runbook = read('deploy/RUNBOOK.md');
const alertRules = alerts.groups.flatMap((g) => g.rules);

/** Every series name createMetrics() exposes (histogram series included) and its label names. */
async function exposedSeries(): Promise<{ series: Set<string>; labels: Map<string, Set<string>>; domain: string[] }> {
  const metrics = createMetrics('deploy-assets-test');
  // Declared label names come from the metric objects; default metrics' dynamic labels
  // (e.g. heap `space`) from their current values.
  const declared = new Map(
    metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { labelNames?: string[] }).labelNames ?? []] as const),
  );
  const json = await metrics.registry.getMetricsAsJSON();
  metrics.registry.clear();
  const series = new Set<string>();
  const labels = new Map<string, Set<string>>();
  const domain: string[] = [];
  for (const m of json) {
    const histogram = String(m.type) === 'histogram';
    const names = histogram ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
    const own = new Set<string>(['service', 'instance', 'job', ...(histogram ? ['le'] : []), ...(declared.get(m.name) ?? [])]);
    for (const v of m.values) for (const l of Object.keys(v.labels)) own.add(l);
    for (const n of names) {
      series.add(n);
      labels.set(n, own);
    }
    if (!/^labelstream_(process|nodejs)_/.test(m.name)) domain.push(m.name);
  }
  return { series, labels, domain };
}

describe('docker-compose.yml', () => {
  it('defines the infrastructure, the three services and the observability stack', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['kafka', 'schema-registry', 'redis', 'prometheus', 'grafana', 'ingest', 'evaluator', 'publisher']),
    );
  });

  describe.each(SERVICES)('$name', ({ name, load, port, needs }) => {
    const service = compose.services[name] as ComposeService;
    const env = containerEnv(service);

    it('has an environment its config loader accepts, and only variables the loader reads', () => {
      const config = load(env);
      const read = variablesRead(load, env);
      const unknown = Object.keys(env).filter((k) => !read.has(k));
      expect(unknown).toEqual([]);
      expect(config.service).toBe(name);
    });

    it('points at the compose Kafka, schema registry (at its root) and, for the evaluator, Redis', () => {
      const config = load(env);
      const kafka = compose.services.kafka?.environment ?? {};
      const advertised = String(kafka.KAFKA_ADVERTISED_LISTENERS).split(',');
      const internal = advertised.find((l) => l.startsWith(`${String(kafka.KAFKA_INTER_BROKER_LISTENER_NAME)}://`));
      expect(internal).toBeDefined();
      expect(config.kafka.brokers).toEqual([internal?.split('://')[1]]);
      expect(new URL(config.registry.url).host).toBe('schema-registry:8081');
      expect(new URL(config.registry.url).pathname).toBe('/');
      if (name === 'evaluator') {
        const ev = loadEvaluatorConfig(env);
        expect(new URL(ev.redis.url).hostname).toBe('redis');
        expect(existsSync(resolve(ROOT, ev.rulesFile))).toBe(true);
      }
    });

    it('uses the config default port, publishes it, and HTTP_PORT agrees', () => {
      expect(load(minimalEnv).http.port).toBe(port);
      expect(load(env).http.port).toBe(port);
      expect(env.HTTP_PORT).toBe(String(port));
      expect((service.ports ?? []).map(parsePort)).toEqual([{ host: port, container: port }]);
    });

    it('carries an admin token placeholder marked change-me, overridable from the host', () => {
      expect(load(env).adminToken).toMatch(/change-me/);
      expect(load(containerEnv(service, { ADMIN_TOKEN: 'a-real-secret-of-32-characters!!' })).adminToken).toBe('a-real-secret-of-32-characters!!');
    });

    it('runs its own main file from the one image, with a health check', () => {
      expect(service.build?.dockerfile).toBe('deploy/docker/Dockerfile');
      expect(service.command).toEqual([`services/${name}/dist/main.js`]);
      expect(existsSync(resolve(ROOT, `services/${name}/src/main.ts`))).toBe(true);
      expect(service.healthcheck?.test?.join(' ')).toContain('healthcheck.cjs');
      // The health check script finds the port of each service without HTTP_PORT too.
      expect(read('deploy/docker/healthcheck.cjs')).toContain(`${name}: ${port}`);
    });

    it('starts after its dependencies are healthy', () => {
      for (const dep of needs) {
        expect(service.depends_on?.[dep]?.condition).toBe('service_healthy');
        expect(compose.services[dep]?.healthcheck?.test).toBeDefined();
      }
    });
  });

  it('runs the generator only in the demo profile, from the CLI main file', () => {
    const demo = compose.services.demo as ComposeService;
    expect(demo.profiles).toEqual(['demo']);
    expect(demo.command?.[0]).toBe('packages/cli/dist/main.js');
    expect(demo.command).toEqual(expect.arrayContaining(['generate', '--rate', '200', '--customers', '500']));
    expect(existsSync(resolve(ROOT, 'packages/cli/src/main.ts'))).toBe(true);
  });

  it('runs the Redis version the native stack runs, and the README says so', () => {
    // Debian 12's redis-server, which deploy/local/stack.sh uses.
    const image = compose.services.redis?.image;
    expect(image).toMatch(/^redis:7\.0\.\d+$/);
    expect(read('packages/testkit/src/containers.ts')).toContain(`'${image}'`);
    expect(read('README.md')).toContain(`Redis ${image!.split(':')[1]}`);
  });

  it('keeps Redis on AOF, in a volume', () => {
    const redis = compose.services.redis as ComposeService;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('mounts the Prometheus and Grafana files this repository holds', () => {
    expect(compose.services.prometheus?.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    const grafana = compose.services.grafana as ComposeService;
    const dashboards = grafana.volumes?.find((v) => v.startsWith('./deploy/grafana/dashboards:'));
    const provider = readYaml('deploy/grafana/provisioning/dashboards/labelstream.yml') as { providers: Array<{ options: { path: string } }> };
    expect(dashboards?.split(':')[1]).toBe(provider.providers[0]?.options.path);
    expect(grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(String(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH)).toBe(`${provider.providers[0]?.options.path}/labelstream.json`);
  });
});

describe('Prometheus configuration', () => {
  it.each([
    ['prometheus.yml', () => prometheus, (name: string) => name],
    ['prometheus-native.yml', () => prometheusNative, () => '127.0.0.1'],
  ])('%s scrapes each service on its config default port and loads the alerts', (_file, config, host) => {
    for (const { name, port } of SERVICES) {
      const job = config().scrape_configs.find((j) => j.job_name === `labelstream-${name}`);
      expect(job?.static_configs?.flatMap((s) => s.targets)).toEqual([`${host(name)}:${port}`]);
    }
    expect(config().rule_files).toEqual(['alerts.yml']);
  });

  it('scrapes the services by the compose service names', () => {
    for (const { name } of SERVICES) expect(compose.services[name]).toBeDefined();
  });
});

describe('alert rules', () => {
  it('are uniquely named, with a severity, a summary, a description and a runbook section', () => {
    const names = alertRules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    const headings = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
    for (const rule of alertRules) {
      expect(rule.alert).toMatch(/^Labelstream[A-Z]\w+$/);
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      expect(rule.annotations?.runbook).toBe(`deploy/RUNBOOK.md#${rule.alert.toLowerCase()}`);
      expect(headings).toContain(rule.alert.toLowerCase());
    }
  });

  it('cover the conditions an SRE expects', () => {
    const exprs = alertRules.map((r) => r.expr).join('\n');
    for (const needle of [
      'labelstream_consumer_lag',
      'deriv(',
      'labelstream_dlq_total',
      'labelstream_outbox_backlog',
      'labelstream_events_consumed_total',
      'labelstream_errors_total',
      'up{',
      'labelstream_ready',
      'labelstream_end_to_end_latency_seconds_bucket',
      'labelstream_timer_lateness_seconds_bucket',
      'labelstream_webhook_dead_letters_total',
      'labelstream_fenced_writes_total',
      'labelstream_rebalances_total',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  it('have promtool unit tests for at least three alerts, each an alert that exists', () => {
    expect(alertTests.rule_files).toEqual(['alerts.yml']);
    const tested = new Set(alertTests.tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => a.alertname)));
    expect(tested.size).toBeGreaterThanOrEqual(3);
    for (const name of tested) expect(alertRules.map((r) => r.alert)).toContain(name);
  });
});

describe('metric names in alerts and dashboard', () => {
  const dashboardExprs = (): string[] => [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query)),
  ];

  it.each([
    ['alerts.yml', () => alertRules.map((r) => r.expr)],
    ['the dashboard', dashboardExprs],
  ])('%s use only series that createMetrics() exposes, with their labels', async (_what, exprs) => {
    const { series, labels } = await exposedSeries();
    const allLabels = new Set([...labels.values()].flatMap((s) => [...s]));
    const unknownSeries = exprs().flatMap(metricNames).filter((n) => !series.has(n));
    expect(unknownSeries).toEqual([]);
    const unknownSelectorLabels = exprs()
      .flatMap(selectorLabels)
      .filter(({ metric, label }) => !labels.get(metric)?.has(label))
      .map(({ metric, label }) => `${metric}{${label}}`);
    expect(unknownSelectorLabels).toEqual([]);
    const unknownGrouping = exprs().flatMap(groupingLabels).filter((l) => !allLabels.has(l));
    expect(unknownGrouping).toEqual([]);
  });

  it('the dashboard shows every Labelstream metric', async () => {
    const { domain } = await exposedSeries();
    const used = new Set(dashboardExprs().flatMap(metricNames).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect(domain.filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const panels = dashboard.panels;
  const content = panels.filter((p) => p.type !== 'row');

  it('is provisioned with a datasource variable defaulting to the provisioned Prometheus', () => {
    expect(dashboard.uid).toBe('labelstream');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml') as { datasources: Array<{ uid: string; type: string; url: string }> };
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable?.query).toBe('prometheus');
    expect(variable?.current?.value).toBe(ds.datasources[0]?.uid);
    expect(ds.datasources[0]?.url).toBe('http://prometheus:9090');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'service']));
  });

  it('has the rows an SRE looks for', () => {
    expect(panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Overview', 'Label health', 'Ingest', 'Evaluator', 'Publisher', 'Kafka consumer', 'Process']);
  });

  it('has unique panel ids and complete panels that query through the datasource variable', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of content) {
      expect(p.title).toBeTruthy();
      expect(p.type).toMatch(/^(timeseries|stat|gauge|bargauge|table|heatmap)$/);
      expect(p.datasource?.uid).toBe('${datasource}');
      expect(p.targets?.length).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets ?? []) expect(t.expr.trim()).not.toBe('');
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const p of panels) {
      const g = p.gridPos;
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.w).toBeGreaterThan(0);
      expect(g.h).toBeGreaterThan(0);
      expect(g.x + g.w).toBeLessThanOrEqual(24);
    }
    const overlaps: string[] = [];
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = (panels[i] as Panel).gridPos;
        const b = (panels[j] as Panel).gridPos;
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push(`${panels[i]?.id}/${panels[j]?.id}`);
      }
    }
    expect(overlaps).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const instructions = (stage: string, keyword: string): string[] =>
    [...stage.matchAll(new RegExp(`^${keyword}\\s+(.+)$`, 'gm'))].map((m) => (m[1] ?? '').trim());

  it('runs the service as a fixed non-root user', () => {
    const users = instructions(finalStage, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1] ?? '';
    expect(last).not.toMatch(/^(root|0)(:|$)/);
    expect(last).toBe('10001:10001');
    expect(finalStage).toMatch(/useradd[^\n]*--uid 10001/);
  });

  it('is production Node with node as entrypoint and a service main file as default command', () => {
    expect(finalStage).toMatch(/NODE_ENV=production/);
    expect(instructions(finalStage, 'ENTRYPOINT')).toEqual(['["node"]']);
    const cmd = JSON.parse(instructions(finalStage, 'CMD').pop() ?? '[]') as string[];
    const main = cmd[0] ?? '';
    expect(main).toMatch(/^services\/(ingest|evaluator|publisher)\/dist\/main\.js$/);
    expect(existsSync(resolve(ROOT, main.replace('/dist/main.js', '/src/main.ts')))).toBe(true);
  });

  it('checks health on /healthz and ships the rules', () => {
    expect(finalStage).toMatch(/HEALTHCHECK[^\n]*\\\n\s+CMD \["node", "\/app\/deploy\/docker\/healthcheck\.cjs"\]/);
    expect(read('deploy/docker/healthcheck.cjs')).toContain('/healthz');
    expect(dockerfile).toMatch(/cp -R rules \/out\/rules/);
  });

  it('runs the Node major that CI and the README commands pin (.node-version)', () => {
    const pinned = read('.node-version').trim().replace(/^v/, '');
    expect(dockerfile).toContain(`ARG NODE_VERSION=${pinned.split('.')[0]}\n`);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS runtime$/m);
  });

  it('pins the pnpm version of package.json and installs from the lockfile', () => {
    const pkg = JSON.parse(read('package.json')) as { packageManager: string };
    expect(dockerfile).toContain(`ARG PNPM_VERSION=${pkg.packageManager.split('@')[1]}`);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    expect(dockerfile).toMatch(/pnpm install --prod --frozen-lockfile/);
  });

  it('builds every service and the CLI it runs', () => {
    const built = /^RUN pnpm exec tsc -b ([^\n]+)$/m.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    const installed = [...dockerfile.matchAll(/--filter '([^']+)\.\.\.'/g)].map((m) => m[1]);
    for (const { name } of SERVICES) {
      expect(built).toContain(`services/${name}`);
      expect(installed).toContain(`@labelstream/service-${name}`);
      expect(dockerfile).toContain(`services/${name}/dist/main.js`);
    }
    expect(built).toContain('packages/cli');
    expect(installed).toContain('@labelstream/cli');
  });

  it('has a .dockerignore that keeps host build output and state out of the context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', '.stack', '.git', '**/coverage', 'bench/results']) expect(ignored).toContain(entry);
  });
});
