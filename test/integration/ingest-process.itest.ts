/**
 * The built ingest service (`node services/ingest/dist/main.js`) as a child process against
 * the real stack: killed with SIGKILL mid-stream and restarted, it loses no event
 * (at-least-once: duplicates are allowed and counted); stopped with SIGTERM while
 * consuming, it exits 0 within its shutdown bound and leaves the group cleanly.
 *
 * The service is built in beforeAll (`tsc -b services/ingest`, incremental: quick when
 * nothing changed); `pnpm test` builds everything before jest anyway.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Schema } from 'avsc';
import { join } from 'node:path';
import { Registry } from '@labelstream/kafka';
import { collect, connectStack, testKafka, uniqueName, waitFor, within, type StackEnv } from '@labelstream/testkit';
import {
  createIngestTopics,
  dlqHeader,
  json,
  rawPurchase,
  decodeCanonical,
  deleteIngestTopics,
  ingestTopicNames,
  produceStream,
  REPO_ROOT,
  startIngestProcess,
  type IngestTestTopics,
  type ServiceProcess,
  type TestKafka,
} from './ingest-fixtures';

jest.setTimeout(180_000);

let env: StackEnv;
let kafka: TestKafka;
let registry: Registry;
beforeAll(async () => {
  execFileSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-b', 'services/ingest'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 300_000 });
  env = await connectStack();
  kafka = testKafka(env, 'ingest-process-itest');
  registry = new Registry({ url: env.schemaRegistryUrl });
}, 320_000);

type Collected = Awaited<ReturnType<typeof collect>>;

/** Distinct eventIds among the canonical records; checks each is keyed by its customerId. */
async function eventIds(records: Collected['messages']): Promise<{ distinct: Set<string>; total: number }> {
  const distinct = new Set<string>();
  for (const r of records) {
    const e = await decodeCanonical(registry, r.value);
    if (r.key?.toString() !== e.customerId) throw new Error(`record for ${e.eventId} keyed ${r.key?.toString()}, not ${e.customerId}`);
    distinct.add(e.eventId);
  }
  return { distinct, total: records.length };
}

describe('ingest service process (real Kafka and registry)', () => {
  let topics: IngestTestTopics;
  let admin: ReturnType<TestKafka['admin']>;
  const running: ServiceProcess[] = [];

  beforeEach(async () => {
    topics = ingestTopicNames('it-ingest-proc');
    admin = kafka.admin();
    await admin.connect();
    await createIngestTopics(admin, topics, { raw: 3, out: 3 });
  });
  afterEach(async () => {
    for (const svc of running.splice(0)) {
      if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
      await svc.exited;
    }
    await deleteIngestTopics(admin, topics);
    await admin.disconnect();
  });

  async function start(groupId: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const svc = await startIngestProcess(env, topics, groupId, { TOPIC_PARTITIONS: '3', ...extraEnv });
    running.push(svc);
    await svc.waitReady();
    return svc;
  }

  it('SIGKILL mid-stream, then a restart: every event arrives at least once', async () => {
    const N = 3000;
    const groupId = uniqueName('it-ingest-kill');
    const out = await collect(kafka, [topics.customerEvents]);
    const dlq = await collect(kafka, [topics.dlq]);
    try {
      const first = await start(groupId);
      // Keep at most 500 events ahead of the output, so events are still flowing when the
      // service dies and keep flowing after the restart.
      const producing = produceStream(kafka, topics, N, {
        chunk: 100,
        beforeChunk: (sent) =>
          waitFor(`output to reach ${sent - 500}`, () => out.messages.length >= sent - 500, { timeoutMs: 120_000, intervalMs: 20 }),
      });
      await waitFor('600 canonical events before the kill', () => out.messages.length >= 600, { timeoutMs: 60_000, intervalMs: 10 });
      first.child.kill('SIGKILL');
      const killed = await first.exited;
      expect(killed.signal).toBe('SIGKILL');
      const atKill = out.messages.length;

      // The dead member stays in the group until its session times out (30 s): the restart
      // takes its partitions over after that and re-reads from the last commit.
      const second = await start(groupId);
      const produced = await producing;
      expect(produced).toHaveLength(N);
      await waitFor(
        `all ${N} eventIds on ${topics.customerEvents}`,
        async () => ((await eventIds(out.messages)).distinct.size >= N ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 250, lastSeen: () => ({ received: out.messages.length }) },
      );
      const { distinct, total } = await eventIds(out.messages);
      expect([...distinct].sort()).toEqual([...produced].sort());
      expect(dlq.messages).toHaveLength(0);
      console.log(`ingest kill/restart: ${N} events, ${atKill} delivered before SIGKILL, ${total} delivered in all, ${total - N} duplicates (at-least-once)`);

      second.child.kill('SIGTERM');
      expect((await within('ingest to exit after SIGTERM', 15_000, second.exited)).code).toBe(0);
    } finally {
      await out.stop();
      await dlq.stop();
    }
  });

  it('SIGTERM while consuming: exits 0 within the shutdown bound, and a restart resumes at once with nothing lost', async () => {
    const N = 3000;
    const shutdownMs = 5000;
    const groupId = uniqueName('it-ingest-term');
    const out = await collect(kafka, [topics.customerEvents]);
    try {
      const first = await start(groupId, { SHUTDOWN_TIMEOUT: `${shutdownMs}ms` });
      const producing = produceStream(kafka, topics, N, {
        chunk: 100,
        beforeChunk: (sent) =>
          waitFor(`output to reach ${sent - 300}`, () => out.messages.length >= sent - 300, { timeoutMs: 120_000, intervalMs: 20 }),
      });
      await waitFor('300 canonical events before SIGTERM', () => out.messages.length >= 300, { timeoutMs: 60_000, intervalMs: 10 });

      // Metrics by topic and type, and readiness, on the service's own HTTP port.
      const metrics = (await fetch(`http://127.0.0.1:${first.port}/metrics`).then((r) => r.text())).split('\n');
      const sample = (name: string, ...labels: string[]) => metrics.find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
      expect(sample('labelstream_events_consumed_total', `topic="${topics.raw.purchases}"`, 'type="PURCHASE"')).toBeDefined();
      expect(sample('labelstream_events_produced_total', `topic="${topics.customerEvents}"`, 'type="SUPPORT_TICKET"')).toBeDefined();
      expect(sample('labelstream_batch_duration_seconds_count', `topic="${topics.raw.emailClicks}"`)).toBeDefined();
      expect(sample('labelstream_ready')).toMatch(/ 1$/);

      const t0 = Date.now();
      first.child.kill('SIGTERM');
      const exit = await within('ingest to exit after SIGTERM', shutdownMs + 5000, first.exited);
      const elapsed = Date.now() - t0;
      expect({ code: exit.code, signal: exit.signal, output: exit.code === 0 ? '' : first.output() }).toEqual({ code: 0, signal: null, output: '' });
      expect(elapsed).toBeLessThan(shutdownMs);

      // A clean stop left the group: the next member is assigned at once (no session timeout).
      const t1 = Date.now();
      await start(groupId);
      const rejoinMs = Date.now() - t1;
      const produced = await producing;
      await waitFor(`all ${N} eventIds`, async () => ((await eventIds(out.messages)).distinct.size >= N ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
        lastSeen: () => ({ received: out.messages.length }),
      });
      const { distinct, total } = await eventIds(out.messages);
      expect([...distinct].sort()).toEqual([...produced].sort());
      expect(rejoinMs).toBeLessThan(20_000);
      console.log(`ingest SIGTERM: exited 0 after ${elapsed} ms (bound ${shutdownMs} ms); restart ready in ${rejoinMs} ms; ${total - N} duplicates`);
    } finally {
      await out.stop();
    }
  });

  /** Resident and peak resident memory of a process, in MiB (Linux /proc). */
  function memoryMiB(pid: number): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  }

  it('Avro allocation bombs and hostile bodies are dead-lettered without growing its memory (issue 14)', async () => {
    const zigzag = (n: number): Buffer => {
      let z = n >= 0 ? n * 2 : -n * 2 - 1;
      const out: number[] = [];
      do {
        let b = z % 128;
        z = Math.floor(z / 128);
        if (z > 0) b |= 0x80;
        out.push(b);
      } while (z > 0);
      return Buffer.from(out);
    };
    const frame = (id: number, body: Buffer) => Buffer.concat([Buffer.from([0, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]), body]);
    const schemas: Schema[] = [
      { type: 'record', name: 'BombInts', fields: [{ name: 'items', type: { type: 'array', items: 'int' } }] },
      { type: 'record', name: 'BombNulls', fields: [{ name: 'items', type: { type: 'array', items: 'null' } }] },
      { type: 'record', name: 'BombMap', fields: [{ name: 'attrs', type: { type: 'map', values: 'string' } }] },
      { type: 'record', name: 'BombNested', fields: [{ name: 'rows', type: { type: 'array', items: { type: 'array', items: 'long' } } }] },
      { type: 'record', name: 'BombList', fields: [{ name: 'next', type: ['null', 'BombList'] }] },
      { type: 'record', name: 'BombString', fields: [{ name: 's', type: 'string' }, { name: 'b', type: 'bytes' }] },
    ] as Schema[];
    const ids = await Promise.all(schemas.map((sc, i) => registry.register(`${topics.raw.purchases}-bomb${i}-value`, sc as object)));
    // The finding's bodies (2^31-1 and 20 M items), then hostile ones from a fixed-seed PRNG:
    // random bytes, and huge counts spliced into random prefixes.
    let seed = 14;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const bodies: Buffer[] = [];
    for (const id of ids) {
      for (const count of [2 ** 31 - 1, 20_000_000, -(2 ** 31 - 1)]) bodies.push(frame(id, Buffer.concat([zigzag(count), Buffer.alloc(55, 2)])));
      bodies.push(frame(id, Buffer.alloc(100_000, 2))); // BombList: 100 000 levels deep
      for (let i = 0; i < 40; i++) {
        const prefix = Buffer.from(Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256)));
        const tail = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
        bodies.push(frame(id, Buffer.concat([prefix, zigzag([2 ** 31 - 1, 20_000_000, 2 ** 40][i % 3]!), tail])));
      }
    }
    const good = json(rawPurchase('after-bombs', 'cust-1'));
    const svc = await start(uniqueName('it-ingest-bomb'));
    const before = memoryMiB(svc.child.pid!);
    const dlq = await collect(kafka, [topics.dlq]);
    const out = await collect(kafka, [topics.customerEvents]);
    try {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: topics.raw.purchases, acks: -1, messages: [...bodies, good].map((value) => ({ key: 'k', value })) });
      await producer.disconnect();
      await out.waitForCount(1, 60_000);
      const dead = await dlq.waitForCount(bodies.length, 60_000);
      const reasons = new Map<string, number>();
      for (const d of dead) reasons.set(dlqHeader.reason(d)!, (reasons.get(dlqHeader.reason(d)!) ?? 0) + 1);
      // Bombs are refused before decoding; a hostile body that happens to decode is refused by validation.
      expect([...reasons.keys()].filter((r) => !['MALFORMED_AVRO', 'LIMIT_EXCEEDED', 'MISSING_FIELD', 'WRONG_TYPE'].includes(r))).toEqual([]);
      const bombs = new Set(ids.flatMap((_, i) => [0, 1, 2, 3].map((k) => i * 44 + k)));
      expect(dead.filter((_, i) => bombs.has(i)).map((d) => dlqHeader.reason(d)).filter((r) => r !== 'MALFORMED_AVRO' && r !== 'LIMIT_EXCEEDED')).toEqual([]);
      const after = memoryMiB(svc.child.pid!);
      process.stdout.write(
        `ingest memory under ${bodies.length} Avro bombs: RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MiB, peak ${before.peak.toFixed(0)} → ${after.peak.toFixed(0)} MiB; reasons ${JSON.stringify(Object.fromEntries(reasons))}\n`,
      );
      expect(after.peak - before.peak).toBeLessThan(64);
      expect(svc.child.exitCode).toBeNull();
    } finally {
      await dlq.stop();
      await out.stop();
    }
  });
});
