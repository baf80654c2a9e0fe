/**
 * The fault run's storefront traffic: the demo generator's raw JSON messages, produced open
 * loop at a fixed rate, with event times leading the wall clock by `leadMs` (see
 * RELIABILITY.md, "Exactness"), a share of events sent 1–40 s in the past (out of order,
 * some beyond the rules' 30 s lateness), a share of raw messages sent twice, and the
 * generator's malformed messages. Sends are retried until acknowledged, so a broker
 * restart only delays them.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import { createRng, createStorefront, type GeneratedMessage, type StorefrontTopics } from '@labelstream/generator';

export interface WorkloadOptions {
  rate: number;
  customers: number;
  skew: number;
  seed: number;
  leadMs: number;
  lateRatio: number;
  duplicateRatio: number;
  malformedRatio: number;
}

export interface WorkloadStats {
  /** Raw messages acknowledged by Kafka (copies included). */
  sent: number;
  /** Distinct valid event ids acknowledged. */
  validIds: Set<string>;
  malformed: number;
  duplicatesSent: number;
  lateSent: number;
  sendErrors: number;
  lastError?: string;
}

export interface Workload {
  readonly stats: WorkloadStats;
  /** Stops generating and waits until everything generated is acknowledged. */
  stop(): Promise<void>;
}

const TICK_MS = 50;
const LATE_MIN_MS = 1_000;
const LATE_MAX_MS = 40_000;

export async function startWorkload(kafka: Kafka, topics: StorefrontTopics, o: WorkloadOptions): Promise<Workload> {
  const start = Date.now();
  const shop = createStorefront({
    seed: o.seed,
    startAt: start + o.leadMs,
    customers: o.customers,
    activitySkew: o.skew,
    malformedRatio: o.malformedRatio,
    lateRatio: 0, // late events are made here, with a bounded delay
    topics,
  });
  const rng = createRng(o.seed, 99);
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5000 } });
  await producer.connect();
  const stats: WorkloadStats = { sent: 0, validIds: new Set(), malformed: 0, duplicatesSent: 0, lateSent: 0, sendErrors: 0 };
  const recent: GeneratedMessage[] = [];
  let generated = 0;
  let stopping = false;
  let pending: GeneratedMessage[] = [];

  const make = (now: number): GeneratedMessage => {
    const m = shop.next(now + o.leadMs);
    if (m.malformed === undefined && rng.chance(o.lateRatio)) {
      const lag = Math.round(rng.logUniform(LATE_MIN_MS, LATE_MAX_MS));
      const body = JSON.parse(m.value.toString('utf8')) as { occurredAt: string | number };
      const t = (typeof body.occurredAt === 'number' ? body.occurredAt : Date.parse(body.occurredAt)) - lag;
      body.occurredAt = typeof body.occurredAt === 'number' ? t : new Date(t).toISOString();
      stats.lateSent++;
      return { ...m, value: Buffer.from(JSON.stringify(body), 'utf8') };
    }
    return m;
  };

  const loop = (async () => {
    while (!stopping || pending.length > 0) {
      const now = Date.now();
      if (!stopping) {
        const due = Math.floor(((now - start) * o.rate) / 1000) - generated;
        for (let i = 0; i < due; i++) {
          const m = make(now);
          generated++;
          pending.push(m);
          if (m.malformed === undefined) {
            recent.push(m);
            if (recent.length > 2000) recent.shift();
            if (rng.chance(o.duplicateRatio)) {
              pending.push(recent[rng.int(0, recent.length - 1)]!);
              stats.duplicatesSent++;
            }
          }
        }
      }
      const batch = pending.splice(0, 2000);
      if (batch.length) {
        try {
          await producer.sendBatch({ acks: -1, topicMessages: byTopic(batch) });
          stats.sent += batch.length;
          for (const m of batch) {
            if (m.eventId !== undefined) stats.validIds.add(m.eventId);
            else stats.malformed++;
          }
        } catch (err) {
          stats.sendErrors++;
          stats.lastError = (err as Error).message;
          pending = [...batch, ...pending]; // retried: a copy may have landed, which dedupe absorbs
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  })();

  return {
    stats,
    async stop() {
      stopping = true;
      await loop;
      await producer.disconnect().catch(() => undefined);
    },
  };
}

function byTopic(batch: readonly GeneratedMessage[]): Array<{ topic: string; messages: Message[] }> {
  const out = new Map<string, Message[]>();
  for (const m of batch) {
    const list = out.get(m.topic) ?? [];
    list.push({ key: m.key, value: m.value });
    out.set(m.topic, list);
  }
  return [...out].map(([topic, messages]) => ({ topic, messages }));
}
