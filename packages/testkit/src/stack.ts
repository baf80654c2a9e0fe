import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';
import Redis from 'ioredis';
import { resolveStackEnv, type StackEnv } from './stack-env';
import { startContainers } from './containers';
import { waitFor, within } from './wait';

let containers: Promise<{ env: StackEnv; stop: () => Promise<void> }> | undefined;

/** A unique, readable name for a test's own topics, groups and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A kafkajs client for tests: few retries, so a stopped broker fails a test quickly. */
export function testKafka(env: StackEnv, clientId = 'labelstream-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: env.kafkaBrokers,
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  });
}

async function checkKafka(env: StackEnv): Promise<void> {
  const admin = testKafka(env, 'labelstream-preflight').admin();
  try {
    await within(`Kafka at ${env.kafkaBrokers.join(',')}`, 10_000, admin.connect().then(() => admin.listTopics()));
  } catch (e) {
    throw new Error(`Kafka at ${env.kafkaBrokers.join(',')} is not reachable: ${(e as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function checkRegistry(env: StackEnv): Promise<void> {
  try {
    const res = await fetch(`${env.schemaRegistryUrl.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new Error(`Schema registry at ${env.schemaRegistryUrl} is not reachable: ${(e as Error).message}`);
  }
}

async function checkRedis(env: StackEnv): Promise<void> {
  const r = new Redis(env.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  try {
    await within(`Redis at ${env.redisUrl}`, 5000, r.connect().then(() => r.ping()));
  } catch (e) {
    throw new Error(`Redis at ${env.redisUrl} is not reachable: ${(e as Error).message}`);
  } finally {
    r.disconnect();
  }
}

/**
 * The stack for an integration test, checked: every server answered a real request, or
 * the error names the one that did not (and how to start the stack).
 */
export async function connectStack(): Promise<StackEnv> {
  const resolved = resolveStackEnv();
  let env: StackEnv;
  if (resolved === 'docker') {
    containers ??= startContainers();
    env = (await containers).env;
  } else {
    env = resolved;
  }
  const results = await Promise.allSettled([checkKafka(env), checkRegistry(env), checkRedis(env)]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);
  if (failures.length) throw new Error(`${failures.join('\n')}\n(stack from ${env.source}; start it with \`pnpm stack up\`)`);
  return env;
}

/** Creates topics for one test and returns their names. */
export async function createTestTopics(admin: Admin, topics: Array<{ topic: string; partitions?: number; config?: Record<string, string> }>): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions ?? 1,
      replicationFactor: 1,
      configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
}

/** A consumer that collects every message of `topics` from the beginning, for assertions. */
export async function collect(kafka: Kafka, topics: string[]): Promise<{
  messages: Array<KafkaMessage & { topic: string; partition: number }>;
  waitForCount: (n: number, timeoutMs?: number) => Promise<Array<KafkaMessage & { topic: string; partition: number }>>;
  stop: () => Promise<void>;
  consumer: Consumer;
}> {
  const consumer = kafka.consumer({ groupId: uniqueName('collector'), maxWaitTimeInMs: 50 });
  const messages: Array<KafkaMessage & { topic: string; partition: number }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ topic, partition, message }) => void messages.push({ ...message, topic, partition }) });
  return {
    messages,
    consumer,
    waitForCount: (n, timeoutMs = 30_000) =>
      waitFor(`${n} messages on ${topics.join(',')}`, () => (messages.length >= n ? messages.slice() : undefined), {
        timeoutMs,
        lastSeen: () => ({ received: messages.length }),
      }),
    stop: () => consumer.disconnect(),
  };
}
