/**
 * Security, on the secure profile of the native stack (`stack.sh up --secure`: Kafka with
 * SASL_SSL/SCRAM-SHA-512 only, Redis with TLS only and an ACL user, random credentials).
 * The three built services run the pipeline over it; plaintext clients are refused; wrong
 * credentials stop a service within seconds with a message naming what failed, never the
 * password; the admin endpoint wants its token; and neither personal data from events nor
 * a secret reaches any log line, at LOG_LEVEL=debug.
 *
 * The test brings the secure stack up itself (own dir and ports, beside the default stack)
 * and stops it afterwards only if it started it. It is skipped, saying why, on machines
 * without Java, openssl or redis-server (where the native stacks cannot run at all).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { labelEventType, type LabelEvent } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { collect, createTestTopics, uniqueName, waitFor } from '@labelstream/testkit';
import { pipelineTopics, runUntilExit, startService, type RunningService } from '../support/services';

const ROOT = join(__dirname, '..', '..');
const STACK = join(ROOT, 'deploy', 'local', 'stack.sh');
const STACK_DIR = process.env.LABELSTREAM_SECURE_STACK_DIR ?? join(ROOT, '.stack-secure');

const RULES = `
version: "security-1"
features:
  orders_lifetime: { event: purchase, agg: count, window: lifetime }
labels:
  customer:
    description: "Bought at least once."
    category: lifecycle
    when: "orders_lifetime >= 1"
`;

/** Personal data a producer sends by mistake: must never be logged by any service. */
const CANARY = { email: 'canary.zx81@example.org', name: 'Zebulon Canarywing', firstName: 'Zebulon', lastName: 'Canarywing', phone: '+44 20 7946 0958' };
const ADMIN_TOKEN = `sec-admin-${uniqueName('t')}`;

function missingPrerequisite(): string | undefined {
  if (process.env.LABELSTREAM_SKIP_SECURE === '1') return 'LABELSTREAM_SKIP_SECURE=1';
  const found = (cmd: string, arg: string) => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
  for (const [cmd, arg] of [['java', '-version'], ['openssl', 'version'], ['redis-server', '--version']] as const) {
    if (!found(cmd, arg)) return `${cmd} is not installed`;
  }
  // the Kafka and registry jars come from the cache the default stack filled, else from maven
  const cache = process.env.LABELSTREAM_CACHE ?? join(homedir(), '.cache', 'labelstream');
  if (!existsSync(cache) && !found('mvn', '-v')) return `neither ${cache} nor maven is there to provide the Kafka jars`;
  return undefined;
}

const skip = missingPrerequisite();
if (skip) console.warn(`security.itest: skipped, the secure native stack cannot run here (${skip})`);
const suite = skip ? describe.skip : describe;

/** The secure stack's connection variables, as `stack.sh up --secure` wrote them. */
function readSecureEnv(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(join(STACK_DIR, 'secure-env'), 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

function stack(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('bash', [STACK, ...args, '--secure'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

let env: Record<string, string>;
let startedHere = false;
const services: RunningService[] = [];

function kafkaClient(overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'security-itest',
    brokers: env.KAFKA_BROKERS!.split(','),
    ssl: { ca: [readFileSync(env.KAFKA_TLS_CA_FILE!, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! },
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
    ...overrides,
  });
}

/** What a service needs to reach the secure stack (only what secure-env names: no default-stack leftovers). */
function serviceEnv(extra: Record<string, string>): Record<string, string> {
  return { ...env, SHUTDOWN_TIMEOUT: '5s', TOPIC_PARTITIONS: '2', ...extra };
}

suite('security on the secure native stack (SASL_SSL Kafka, TLS + ACL Redis)', () => {
  beforeAll(async () => {
    if (stack('status').status !== 0) {
      const t0 = Date.now();
      const up = stack('up');
      if (up.status !== 0) throw new Error(`stack.sh up --secure failed:\n${up.output.slice(-4000)}`);
      startedHere = true;
      console.log(`security.itest: secure stack started in ${Date.now() - t0} ms`);
    }
    env = readSecureEnv();
    execFileSync('npx', ['tsc', '-b', 'services/ingest', 'services/evaluator', 'services/publisher'], { cwd: ROOT, stdio: 'inherit' });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    if (startedHere) stack('down');
  }, 60_000);

  it('the credentials are random per stack and held in private files', () => {
    expect(env.KAFKA_SASL_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
    expect(env.REDIS_URL).toMatch(/^rediss:\/\/labelstream:[0-9a-f]{48}@127\.0\.0\.1:\d+$/);
    for (const f of ['secure-env', 'secrets', 'tls/ca.key', 'tls/server.key', 'conf/kafka-server.properties', 'conf/registry-kafka.properties', 'conf/redis-users.acl']) {
      const path = join(STACK_DIR, f);
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path).length).toBeGreaterThan(0);
      // owner-only: no bit for group or others
      expect(spawnSync('stat', ['-c', '%a', path], { encoding: 'utf8' }).stdout.trim()).toMatch(/^[67]00$/);
    }
  });

  it('refuses plaintext and unauthenticated clients on the Kafka and Redis ports', async () => {
    const plain = kafkaClient({ ssl: false, sasl: undefined, retry: { retries: 0 } }).admin();
    await expect(plain.connect().then(() => plain.listTopics())).rejects.toThrow();
    await plain.disconnect().catch(() => undefined);

    const tlsOnly = kafkaClient({ sasl: undefined, retry: { retries: 0 } }).admin();
    await expect(tlsOnly.connect().then(() => tlsOnly.listTopics())).rejects.toThrow();
    await tlsOnly.disconnect().catch(() => undefined);

    const ok = kafkaClient().admin();
    await ok.connect();
    expect(Array.isArray(await ok.listTopics())).toBe(true);
    await ok.disconnect();

    const port = new URL(env.REDIS_URL!).port;
    const ca = [readFileSync(env.REDIS_TLS_CA_FILE!, 'utf8')];
    // no ready check: its INFO would fail first and hide the reply to the command under test
    const once = { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 };
    const attempt = async (r: Redis, fn: (r: Redis) => Promise<unknown>): Promise<string> => {
      r.on('error', () => undefined);
      try {
        await r.connect();
        return String(await fn(r));
      } catch (e) {
        return (e as Error).message;
      } finally {
        r.disconnect();
      }
    };
    // plaintext to the TLS port: no answer
    expect(await attempt(new Redis(`redis://127.0.0.1:${port}`, once), (r) => r.ping())).not.toBe('PONG');
    // TLS but no user: the default user is off
    expect(await attempt(new Redis(`rediss://127.0.0.1:${port}`, { ...once, tls: { ca } }), (r) => r.ping())).toMatch(/NOAUTH/);
    // the ACL user may work, not wipe or reconfigure the server
    expect(await attempt(new Redis(env.REDIS_URL!, { ...once, tls: { ca } }), (r) => r.ping())).toBe('PONG');
    expect(await attempt(new Redis(env.REDIS_URL!, { ...once, tls: { ca } }), (r) => r.flushall())).toMatch(/NOPERM/);
    expect(await attempt(new Redis(env.REDIS_URL!, { ...once, tls: { ca } }), (r) => r.config('GET', 'requirepass'))).toMatch(/NOPERM/);
  });

  it('stops a service with a wrong Kafka password within seconds, naming the user, not the password', async () => {
    const wrong = `wrong-kafka-${uniqueName('pw')}`;
    const run = await runUntilExit('ingest', serviceEnv({ KAFKA_SASL_PASSWORD: wrong, LOG_LEVEL: 'debug' }));
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull(); // exited by itself, not killed at the time bound
    expect(run.ms).toBeLessThan(20_000);
    expect(run.output).toContain('Kafka authentication failed for user "labelstream" (SCRAM-SHA-512)');
    expect(run.output).toContain('KAFKA_SASL_PASSWORD');
    expect(run.output).not.toContain(wrong);
    expect(run.output).not.toContain(env.KAFKA_SASL_PASSWORD);
  });

  it('stops the evaluator with a wrong Redis password within seconds, naming the user, not the password', async () => {
    const wrong = `wrong-redis-${uniqueName('pw').replace(/[^a-z0-9-]/g, '')}`;
    const dir = mkdtempSync(join(tmpdir(), 'labelstream-sec-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const url = new URL(env.REDIS_URL!);
    url.password = wrong;
    const run = await runUntilExit('evaluator', serviceEnv({ REDIS_URL: url.toString(), RULES_FILE: join(dir, 'rules.yaml'), LOG_LEVEL: 'debug' }));
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.ms).toBeLessThan(20_000);
    expect(run.output).toContain('Redis authentication failed for user "labelstream"');
    expect(run.output).toContain('REDIS_URL');
    expect(run.output).not.toContain(wrong);
    expect(run.output).not.toContain(new URL(env.REDIS_URL!).password);
  });

  it('runs the pipeline over SASL_SSL and TLS + ACL Redis; admin wants its token; no personal data or secret in any log', async () => {
    const p = uniqueName('sec');
    const topics = pipelineTopics(p);
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [
      ...Object.values(topics).filter((t) => t !== topics.TOPIC_CUSTOMER_LABELS).map((topic) => ({ topic, partitions: 2 })),
      { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: 2, config: { 'cleanup.policy': 'compact' } },
    ]);
    await admin.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'labelstream-sec-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const common = serviceEnv({ LOG_LEVEL: 'debug', ...topics });
    services.push(
      await startService('ingest', { ...common, INGEST_GROUP_ID: `${p}-ingest` }),
      await startService('evaluator', { ...common, EVALUATOR_GROUP_ID: `${p}-evaluator`, REDIS_KEY_PREFIX: p.replace(/[^a-z0-9_-]/g, '').slice(0, 32), RULES_FILE: join(dir, 'rules.yaml'), ADMIN_TOKEN }),
      await startService('publisher', { ...common, PUBLISHER_GROUP_ID: `${p}-publisher` }),
    );
    const evaluator = services[1]!;

    const out = await collect(kafka, [topics.TOPIC_LABEL_EVENTS]);
    const dlq = await collect(kafka, [topics.TOPIC_DLQ]);
    try {
      const producer = kafka.producer();
      await producer.connect();
      const json = (o: object) => Buffer.from(JSON.stringify(o));
      const now = Date.now();
      await producer.send({
        topic: topics.TOPIC_RAW_PURCHASES,
        messages: [
          {
            key: 'o-1',
            value: json({
              eventId: `${p}-1`, customerId: 'sec-a', occurredAt: new Date(now - 1000).toISOString(), orderId: 'o-1', amountMinor: 4200, currency: 'EUR',
              items: [{ sku: 's1', category: 'books', quantity: 1, unitPriceMinor: 4200 }], channel: 'web',
              ...CANARY, customer: { ...CANARY }, shippingAddress: { name: CANARY.name, street: '1 Canary Wharf' },
            }),
          },
          // rejected (no customerId): the DLQ path must not log the personal data either
          { key: 'o-2', value: json({ eventId: `${p}-2`, occurredAt: new Date(now).toISOString(), orderId: 'o-2', amountMinor: 100, currency: 'EUR', items: [], ...CANARY }) },
        ],
      });
      await producer.send({
        topic: topics.TOPIC_RAW_EMAIL_CLICKS,
        messages: [{ key: 'em-1', value: json({ eventId: `${p}-3`, customerId: 'sec-a', occurredAt: now, campaignId: 'cmp', emailId: 'em-1', url: `https://shop.example/sale?email=${CANARY.email}&name=${encodeURIComponent(CANARY.name)}`, ...CANARY }) }],
      });
      await producer.disconnect();

      // (a) raw JSON in over SASL_SSL → state in TLS Redis as the ACL user → label event out
      const registry = new Registry({ url: env.SCHEMA_REGISTRY_URL! });
      const events = await waitFor(
        'the public label event of sec-a',
        async () => {
          const all = await Promise.all(out.messages.map((m) => registry.decode<LabelEvent>(m.value, labelEventType)));
          return all.some((e) => e.customerId === 'sec-a') ? all : undefined;
        },
        { timeoutMs: 60_000, lastSeen: () => out.messages.length },
      );
      expect(events.filter((e) => e.customerId === 'sec-a').map((e) => `${e.type}:${e.label}`)).toEqual(['LABEL_ASSIGNED:customer']);
      const dead = await dlq.waitForCount(1);
      expect(dead[0]!.headers?.['ls-dlq-reason']?.toString()).toBeTruthy();

      // (d) the admin endpoint: no token and a wrong token are refused, the right one answers
      const adminUrl = `http://127.0.0.1:${evaluator.port}/admin/customers/sec-a`;
      expect((await fetch(adminUrl)).status).toBe(401);
      expect((await fetch(adminUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
      expect((await fetch(adminUrl, { headers: { authorization: ADMIN_TOKEN } })).status).toBe(401); // not a bearer token
      const ok = await fetch(adminUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { explanation: { features: Record<string, unknown> } };
      expect(body.explanation.features).toMatchObject({ orders_lifetime: 1 }); // read back from Redis over TLS

      // (e) at LOG_LEVEL=debug, no log line of any service carries the canary or a secret
      const secrets = [env.KAFKA_SASL_PASSWORD!, new URL(env.REDIS_URL!).password, ADMIN_TOKEN];
      for (const s of services) {
        const text = s.output();
        expect(text.length).toBeGreaterThan(0);
        for (const needle of [CANARY.email, CANARY.name, CANARY.lastName, CANARY.phone, encodeURIComponent(CANARY.name), ...secrets]) {
          if (text.includes(needle)) throw new Error(`${s.name} logged "${needle}":\n${text.split('\n').filter((l) => l.includes(needle)).slice(0, 3).join('\n')}`);
        }
      }
      // nor do the stack's own logs (the broker and the registry log passwords as [hidden])
      const logs = join(STACK_DIR, 'logs');
      for (const f of readdirSync(logs)) {
        const text = readFileSync(join(logs, f), 'utf8');
        for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      }
    } finally {
      await Promise.all([out.stop(), dlq.stop()]);
    }
  });
});
