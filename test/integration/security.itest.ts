/**
 * Security, on the secure profile of the native stack (`stack.sh up --secure`: Kafka with
 * SASL_SSL/SCRAM-SHA-512 only and ACLs, one user per service; Redis with TLS only and an
 * ACL user; a registry that wants credentials for writes; random credentials). The three
 * built services run the pipeline over it, each as its own Kafka user; plaintext clients
 * are refused; a service's user may write only its own output topics (the evaluator's
 * credentials cannot write customer events, ingest's cannot write decisions); registering
 * a schema without credentials is refused; wrong credentials stop a service within seconds
 * with a message naming what failed, never the password; the admin endpoint wants its
 * token; and neither personal data from events nor a secret reaches any log line, at
 * LOG_LEVEL=debug.
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
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
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

/** The stack's own passwords (the test sets its topics up as the Kafka admin, as an operator would). */
function readSecrets(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(STACK_DIR, 'secrets'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function stack(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync('bash', [STACK, ...args, '--secure'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000, env: { ...process.env, ...env } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The services' ACLs for this test's topic and group names (the same rules `up` grants the default names). */
function grantAcls(topics: Record<string, string>, groups: { ingest: string; evaluator: string; publisher: string }): void {
  const r = stack(['acls'], { ...topics, INGEST_GROUP_ID: groups.ingest, EVALUATOR_GROUP_ID: groups.evaluator, PUBLISHER_GROUP_ID: groups.publisher });
  if (r.status !== 0) throw new Error(`stack.sh acls --secure failed:\n${r.output.slice(-3000)}`);
}

let env: Record<string, string>;
let secrets: Record<string, string>;
let startedHere = false;
const services: RunningService[] = [];

/** A client as `user` (default: `labelstream`, the storefront's producers and the label events' readers). */
function kafkaClient(overrides: Partial<KafkaConfig> = {}, user = { username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! }): Kafka {
  return new Kafka({
    clientId: 'security-itest',
    brokers: env.KAFKA_BROKERS!.split(','),
    ssl: { ca: [readFileSync(env.KAFKA_TLS_CA_FILE!, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', ...user },
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
    ...overrides,
  });
}

/** The Kafka admin (super user): topic set-up and reading every topic, as an operator. */
const adminClient = () => kafkaClient({}, { username: 'admin', password: secrets.KAFKA_ADMIN_PASSWORD! });
/** A service's own Kafka user, from secure-env. */
const serviceUser = (service: 'INGEST' | 'EVALUATOR' | 'PUBLISHER') => ({ username: env[`${service}_KAFKA_SASL_USERNAME`]!, password: env[`${service}_KAFKA_SASL_PASSWORD`]! });

/** Creates a whole pipeline's topics as the admin and grants the services' ACLs for them. */
async function pipelineOnStack(p: string) {
  const topics = pipelineTopics(p);
  const groups = { ingest: `${p}-ingest`, evaluator: `${p}-evaluator`, publisher: `${p}-publisher` };
  const admin = adminClient().admin();
  await admin.connect();
  await createTestTopics(admin, [
    ...Object.values(topics).filter((t) => t !== topics.TOPIC_CUSTOMER_LABELS).map((topic) => ({ topic, partitions: 2 })),
    { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: 2, config: { 'cleanup.policy': 'compact' } },
  ]);
  await admin.disconnect();
  grantAcls(topics, groups);
  return { topics, groups };
}

/** What a service needs to reach the secure stack (only what secure-env names: no default-stack leftovers). */
function serviceEnv(extra: Record<string, string>): Record<string, string> {
  return { ...env, SHUTDOWN_TIMEOUT: '5s', TOPIC_PARTITIONS: '2', ...extra };
}

suite('security on the secure native stack (SASL_SSL Kafka, TLS + ACL Redis)', () => {
  beforeAll(async () => {
    if (stack(['status']).status !== 0) {
      const t0 = Date.now();
      const up = stack(['up']);
      if (up.status !== 0) throw new Error(`stack.sh up --secure failed:\n${up.output.slice(-4000)}`);
      startedHere = true;
      console.log(`security.itest: secure stack started in ${Date.now() - t0} ms`);
    }
    env = readSecureEnv();
    secrets = readSecrets();
    execFileSync('npx', ['tsc', '-b', 'services/ingest', 'services/evaluator', 'services/publisher'], { cwd: ROOT, stdio: 'inherit' });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    if (startedHere) stack(['down']);
  }, 60_000);

  it('the credentials are random per stack and held in private files', () => {
    expect(env.KAFKA_SASL_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
    expect(env.REDIS_URL).toMatch(/^rediss:\/\/labelstream:[0-9a-f]{48}@127\.0\.0\.1:\d+$/);
    for (const f of ['secure-env', 'secrets', 'tls/ca.key', 'tls/server.key', 'conf/kafka-server.properties', 'conf/registry-kafka.properties', 'conf/registry-admin.curl', 'conf/redis-users.acl']) {
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
    const run = await runUntilExit('ingest', serviceEnv({ INGEST_KAFKA_SASL_PASSWORD: wrong, LOG_LEVEL: 'debug' }));
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull(); // exited by itself, not killed at the time bound
    expect(run.ms).toBeLessThan(20_000);
    // The start-up failure is a JSON log line: its quotes arrive escaped.
    expect(run.output).toMatch(/Kafka authentication failed for user \\?"ingest\\?" \(SCRAM-SHA-512\)/);
    expect(run.output).toContain('KAFKA_SASL_PASSWORD');
    expect(run.output).not.toContain(wrong);
    expect(run.output).not.toContain(env.INGEST_KAFKA_SASL_PASSWORD);
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
    expect(run.output).toMatch(/Redis authentication failed for user \\?"labelstream\\?"/);
    expect(run.output).toContain('REDIS_URL');
    expect(run.output).not.toContain(wrong);
    expect(run.output).not.toContain(new URL(env.REDIS_URL!).password);
  });

  it('Kafka ACLs: each service may write only its own outputs and see only what it needs', async () => {
    const { topics, groups } = await pipelineOnStack(uniqueName('sec-acl'));
    /**
     * The Kafka error code of a refusal. kafkajs keeps it in `type` when the produce or
     * list-offsets request is refused; a user that may not even describe the topic is
     * refused at the metadata request, which kafkajs reports only by message.
     */
    const refusal = (e: unknown): string => {
      const { type, message } = e as { type?: string; message: string };
      if (type) return type;
      return /^Not authorized to access topics: \[Topic authorization failed\]/.test(message) ? 'TOPIC_AUTHORIZATION_FAILED' : message;
    };
    /** What the broker answers when `user` writes one record to `topic`: 'ok' or the error type. */
    const write = async (user: { username: string; password: string }, topic: string): Promise<string> => {
      const producer = kafkaClient({ retry: { retries: 0 } }, user).producer();
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'acl probe' }] });
        return 'ok';
      } catch (e) {
        return refusal(e);
      } finally {
        await producer.disconnect();
      }
    };
    const [ingest, evaluator, publisher, storefront] = [serviceUser('INGEST'), serviceUser('EVALUATOR'), serviceUser('PUBLISHER'), { username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! }];
    expect(ingest.username).toBe('ingest');
    // only ingest writes customer events
    expect(await write(ingest, topics.TOPIC_CUSTOMER_EVENTS)).toBe('ok');
    expect(await write(evaluator, topics.TOPIC_CUSTOMER_EVENTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(publisher, topics.TOPIC_CUSTOMER_EVENTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(storefront, topics.TOPIC_CUSTOMER_EVENTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // only the evaluator writes decisions
    expect(await write(evaluator, topics.TOPIC_DECISIONS)).toBe('ok');
    expect(await write(ingest, topics.TOPIC_DECISIONS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(publisher, topics.TOPIC_DECISIONS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // only the publisher writes the label-event topics
    expect(await write(publisher, topics.TOPIC_LABEL_EVENTS)).toBe('ok');
    expect(await write(evaluator, topics.TOPIC_LABEL_EVENTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(ingest, topics.TOPIC_CUSTOMER_LABELS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // the storefront's producers write raw topics, the services do not
    expect(await write(storefront, topics.TOPIC_RAW_PURCHASES)).toBe('ok');
    expect(await write(evaluator, topics.TOPIC_RAW_PURCHASES)).toBe('TOPIC_AUTHORIZATION_FAILED');

    // reading: a service sees only its inputs (ingest cannot even list the decisions' offsets)
    const offsets = async (user: { username: string; password: string }, topic: string): Promise<string> => {
      const admin = kafkaClient({ retry: { retries: 0 } }, user).admin();
      await admin.connect();
      try {
        await admin.fetchTopicOffsets(topic);
        return 'ok';
      } catch (e) {
        return refusal(e);
      } finally {
        await admin.disconnect();
      }
    };
    expect(await offsets(evaluator, topics.TOPIC_CUSTOMER_EVENTS)).toBe('ok');
    expect(await offsets(ingest, topics.TOPIC_DECISIONS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await offsets(evaluator, topics.TOPIC_LABEL_EVENTS)).toBe('TOPIC_AUTHORIZATION_FAILED');

    // groups: a service may not join another's group. kafkajs reports a refused
    // FindCoordinator only as "Failed to find group coordinator"; the broker's error code is
    // in its debug log, captured here.
    const join = async (user: { username: string; password: string }, groupId: string, topic: string): Promise<string> => {
      const codes: string[] = [];
      const logCreator = () => (entry: LogEntry) => {
        const type = ((entry.log as { error?: unknown }).error as { type?: string } | undefined)?.type;
        if (type) codes.push(type);
      };
      const consumer = kafkaClient({ retry: { retries: 0 }, logLevel: logLevel.DEBUG, logCreator }, user).consumer({ groupId, retry: { retries: 0 } });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic] });
        const failed = new Promise<string>((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(codes.find((c) => c.endsWith('_AUTHORIZATION_FAILED')) ?? refusal(e.payload.error))));
        const joined = new Promise<string>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve('ok')));
        await consumer.run({ eachMessage: async () => undefined });
        return await Promise.race([failed, joined]);
      } finally {
        await consumer.disconnect();
      }
    };
    expect(await join(ingest, groups.evaluator, topics.TOPIC_CUSTOMER_EVENTS)).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(await join(evaluator, groups.evaluator, topics.TOPIC_CUSTOMER_EVENTS)).toBe('ok');
  });

  it('the schema registry refuses writes without credentials, accepts them with; reads stay anonymous', async () => {
    expect(env.SCHEMA_REGISTRY_USERNAME).toBe('labelstream');
    const subject = `${uniqueName('sec-registry')}-value`;
    const url = `${env.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`;
    const schema = { type: 'record', name: 'SecurityProbe', namespace: 'com.example.security', fields: [{ name: 'a', type: 'string' }] };
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...headers }, body: JSON.stringify({ schema: JSON.stringify(schema) }) });
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    expect((await post({})).status).toBe(401);
    expect((await post(basic(env.SCHEMA_REGISTRY_USERNAME!, `${env.SCHEMA_REGISTRY_PASSWORD}x`))).status).toBe(401);
    expect((await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' })).status).toBe(401);
    // a service's credentials may register schemas, not change the global rules
    const config = await fetch(`${env.SCHEMA_REGISTRY_URL}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...basic(env.SCHEMA_REGISTRY_USERNAME!, env.SCHEMA_REGISTRY_PASSWORD!) },
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    expect(config.status).toBe(403);
    // the project's registry client, with the credentials from config, registers it
    const registry = new Registry({ url: env.SCHEMA_REGISTRY_URL!, auth: { username: env.SCHEMA_REGISTRY_USERNAME!, password: env.SCHEMA_REGISTRY_PASSWORD! } });
    const id = await registry.register(subject, schema);
    expect(id).toBeGreaterThan(0);
    // without them it cannot
    await expect(new Registry({ url: env.SCHEMA_REGISTRY_URL! }).register(`${subject}-anon`, schema)).rejects.toThrow();
    // reads need none
    const read = await fetch(`${env.SCHEMA_REGISTRY_URL}/schemas/ids/${id}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { schema: string }).schema).toContain('SecurityProbe');
  });

  it('runs the pipeline over SASL_SSL and TLS + ACL Redis; admin wants its token; no personal data or secret in any log', async () => {
    const p = uniqueName('sec');
    const { topics, groups } = await pipelineOnStack(p);
    const kafka = adminClient(); // reads the DLQ, which only the services may write and nobody but the admin read
    const dir = mkdtempSync(join(tmpdir(), 'labelstream-sec-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const common = serviceEnv({ LOG_LEVEL: 'debug', ...topics });
    services.push(
      await startService('ingest', { ...common, INGEST_GROUP_ID: groups.ingest }),
      await startService('evaluator', { ...common, EVALUATOR_GROUP_ID: groups.evaluator, REDIS_KEY_PREFIX: p.replace(/[^a-z0-9_-]/g, '').slice(0, 32), RULES_FILE: join(dir, 'rules.yaml'), ADMIN_TOKEN }),
      await startService('publisher', { ...common, PUBLISHER_GROUP_ID: groups.publisher }),
    );
    const evaluator = services[1]!;

    const out = await collect(kafka, [topics.TOPIC_LABEL_EVENTS]);
    const dlq = await collect(kafka, [topics.TOPIC_DLQ]);
    try {
      const producer = kafkaClient().producer(); // the storefront's user: it may write the raw topics
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
      const secretValues = [
        ...['KAFKA_SASL_PASSWORD', 'INGEST_KAFKA_SASL_PASSWORD', 'EVALUATOR_KAFKA_SASL_PASSWORD', 'PUBLISHER_KAFKA_SASL_PASSWORD', 'SCHEMA_REGISTRY_PASSWORD'].map((k) => env[k]!),
        ...Object.values(secrets),
        new URL(env.REDIS_URL!).password,
        ADMIN_TOKEN,
      ];
      expect(secretValues.every((v) => v.length >= 16)).toBe(true);
      for (const s of services) {
        const text = s.output();
        expect(text.length).toBeGreaterThan(0);
        for (const needle of [CANARY.email, CANARY.name, CANARY.lastName, CANARY.phone, encodeURIComponent(CANARY.name), ...secretValues]) {
          if (text.includes(needle)) throw new Error(`${s.name} logged "${needle}":\n${text.split('\n').filter((l) => l.includes(needle)).slice(0, 3).join('\n')}`);
        }
      }
      // nor do the stack's own logs (the broker and the registry log passwords as [hidden])
      const logs = join(STACK_DIR, 'logs');
      for (const f of readdirSync(logs)) {
        const text = readFileSync(join(logs, f), 'utf8');
        for (const secret of secretValues) expect(text.includes(secret)).toBe(false);
      }
    } finally {
      await Promise.all([out.stop(), dlq.stop()]);
    }
  });
});
