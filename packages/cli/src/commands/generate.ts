import { InvalidArgumentError, type Command } from 'commander';
import { DURATION_GRAMMAR, parseDuration } from '@labelstream/duration';
import { Kafka, logLevel, Partitioners, type Admin, type logCreator, type Message, type Producer, type ProducerConfig } from 'kafkajs';
import {
  compileStorefrontOptions,
  createStorefront,
  DEFAULT_STOREFRONT_TOPICS,
  EVENT_KINDS,
  type EventKind,
  type GeneratedMessage,
  type StorefrontOptions,
  type StorefrontTopics,
} from '@labelstream/generator';
import { COMPRESSION_TYPES, registerCodecs, type CodecName } from '@labelstream/kafka';
import { withEnvironment } from './environment';

/** Options of {@link runGenerator} (the `labelstream generate` flags, parsed). */
export interface GenerateOptions {
  /** Kafka bootstrap servers, `host:port`. */
  brokers: string[];
  /** Target events per second, open loop; 0 = as fast as the broker takes them. */
  rate: number;
  /** Simulated customers. */
  customers: number;
  /** Stop after this long (ms); 0 = no time limit. */
  durationMs: number;
  /** Stop after exactly this many messages (benchmark preloading). */
  count?: number;
  /** Storefront seed: the same seed replays the same eventIds (which the evaluator dedupes). */
  seed: number;
  /** Fraction of malformed messages. */
  malformedRatio: number;
  /** Prepended to the three `storefront.*` topic names (e.g. `bench-7.`). */
  topicPrefix?: string;
  /** Create missing topics before producing (default true). */
  createTopics?: boolean;
  /** Partitions of created topics (default 3). */
  partitions?: number;
  /** Replication factor of created topics; -1 = the broker's default (default -1). */
  replicationFactor?: number;
  /** Let the stream include the rare > 1 MiB message; created topics then allow 2 MiB records. */
  includeOversize?: boolean;
  /** Further storefront knobs (quietRatio, activitySkew, …) for benchmarks. */
  storefront?: Omit<Partial<StorefrontOptions>, 'seed' | 'startAt' | 'customers' | 'malformedRatio' | 'topics' | 'includeOversize'>;
  /** Kafka client id (default `labelstream-generate`). */
  clientId?: string;
  /** Codec of the batches sent (default `none`), as a storefront's producer might choose. */
  compression?: 'none' | CodecName;
  /** How often the token bucket is refilled and a batch is sent (default 15 ms). */
  tickMs?: number;
  /** Progress line interval (default 5000 ms; 0 = none). */
  reportEveryMs?: number;
  /** Bound on messages waiting to be sent before generation pauses (default 100 000). */
  maxBacklog?: number;
  /** Bound on flushing at shutdown, and separately on disconnecting (default 10 000 ms). */
  shutdownTimeoutMs?: number;
}

/** The parts of a kafkajs client the generator uses (a fake in tests, a real `Kafka` otherwise). */
export interface GeneratorKafka {
  producer(config: ProducerConfig): Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>;
  admin(): Pick<Admin, 'connect' | 'disconnect' | 'createTopics'>;
}

/** Collaborators of {@link runGenerator}; all optional. */
export interface GenerateDeps {
  /** Kafka client (default: a kafkajs client for `opts.brokers`). */
  kafka?: GeneratorKafka;
  /** Clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Where progress and summary lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Abort to stop: the loop stops generating, flushes (bounded) and disconnects. */
  signal?: AbortSignal;
  /** Called after each acknowledged batch, e.g. to record send times by eventId. */
  onSent?: (messages: readonly GeneratedMessage[], ackedAt: number) => void;
}

/** Why the run ended. */
export type StopReason = 'count' | 'duration' | 'signal';

/** What a run did. */
export interface GenerateSummary {
  stoppedBy: StopReason;
  seed: number;
  topics: StorefrontTopics;
  /** Messages created by the storefront. */
  generated: number;
  /** Messages acknowledged by Kafka. */
  sent: number;
  /** Messages in batches Kafka rejected. */
  failed: number;
  /** Messages still queued when the shutdown bound ran out. */
  unsent: number;
  /** Malformed messages among those acknowledged. */
  malformed: number;
  /** Acknowledged messages per kind. */
  byKind: Record<EventKind, number>;
  /** Failed `sendBatch` calls, and the last error message. */
  errors: number;
  lastError?: string;
  elapsedMs: number;
  /** Acknowledged messages per second over the run. */
  achievedRate: number;
}

/** A batch stays well under the broker's default 1 MiB record-batch limit even on one partition. */
const MAX_BATCH_BYTES = 512 * 1024;
const MAX_BATCH_MESSAGES = 5000;
const OVERSIZE_TOPIC_MAX_BYTES = 2 * 1024 * 1024;

/** FIFO of messages waiting to be sent; O(1) amortised take from the front. */
class Backlog {
  private items: GeneratedMessage[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(m: GeneratedMessage): void {
    this.items.push(m);
  }

  /** Takes the next batch: bounded by count and bytes; an oversize message travels alone. */
  take(): GeneratedMessage[] {
    const out: GeneratedMessage[] = [];
    let bytes = 0;
    while (this.head < this.items.length && out.length < MAX_BATCH_MESSAGES) {
      const m = this.items[this.head] as GeneratedMessage;
      const size = m.value.length + (m.key?.length ?? 0) + 64;
      if (out.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      out.push(m);
      bytes += size;
      this.head++;
      if (bytes >= MAX_BATCH_BYTES) break;
    }
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

function toTopicMessages(batch: readonly GeneratedMessage[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const m of batch) {
    let list = byTopic.get(m.topic);
    if (!list) byTopic.set(m.topic, (list = []));
    list.push({ key: m.key, value: m.value });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * kafkajs log lines as one short stderr line each, minus the warning about bounded retries
 * on the idempotent producer, which this command chooses on purpose (see below).
 */
const quietKafkaLog: logCreator = () => ({ level, log }) => {
  if (log.message.includes('Limiting retries for the idempotent producer')) return;
  console.error(`[kafkajs] ${level === logLevel.ERROR ? 'error' : 'warn'}: ${log.message}`);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `fallback` if `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Produces synthetic storefront traffic to Kafka, open loop: events are due on a fixed
 * schedule (`rate` per second from the start) whatever the broker's speed, and each is
 * stamped with its scheduled time, so a slow broker shows up as latency rather than
 * silently lowering the load (no coordinated omission). Sends are batched every tick and
 * strictly one at a time, as kafkajs' idempotent producer requires (kafkajs #598).
 *
 * @example
 * const summary = await runGenerator({ brokers: ['127.0.0.1:9092'], rate: 0, count: 100_000,
 *   customers: 10_000, durationMs: 0, seed: 1, malformedRatio: 0 });
 */
export async function runGenerator(opts: GenerateOptions, deps: GenerateDeps = {}): Promise<GenerateSummary> {
  const now = deps.now ?? Date.now;
  const print = deps.print ?? ((line: string) => console.log(line));
  const tickMs = opts.tickMs ?? 15;
  const reportEveryMs = opts.reportEveryMs ?? 5000;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 10_000;
  // As fast as possible: keep a few batches ready so generation overlaps the send.
  const capacity = opts.rate > 0 ? (opts.maxBacklog ?? 100_000) : 4 * MAX_BATCH_MESSAGES;
  const prefix = opts.topicPrefix ?? '';
  const topics: StorefrontTopics = {
    purchases: prefix + DEFAULT_STOREFRONT_TOPICS.purchases,
    emailClicks: prefix + DEFAULT_STOREFRONT_TOPICS.emailClicks,
    supportTickets: prefix + DEFAULT_STOREFRONT_TOPICS.supportTickets,
  };
  const storefrontOptions: StorefrontOptions = {
    ...opts.storefront,
    seed: opts.seed,
    startAt: now(),
    customers: opts.customers,
    malformedRatio: opts.malformedRatio,
    includeOversize: opts.includeOversize ?? false,
    topics,
  };
  // Fail on bad options before touching Kafka (the storefront itself starts after connecting).
  compileStorefrontOptions(storefrontOptions);
  registerCodecs();
  const compression = COMPRESSION_TYPES[opts.compression ?? 'none'];
  const kafka: GeneratorKafka =
    deps.kafka ??
    new Kafka({
      clientId: opts.clientId ?? 'labelstream-generate',
      brokers: opts.brokers,
      connectionTimeout: 3000,
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
      logLevel: logLevel.WARN,
      logCreator: quietKafkaLog,
    });

  if (opts.createTopics ?? true) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Resolves false for topics that already exist; a concurrent creator may still race us.
      await admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(topics).map((topic) => ({
          topic,
          numPartitions: opts.partitions ?? 3,
          replicationFactor: opts.replicationFactor ?? -1,
          configEntries: opts.includeOversize ? [{ name: 'max.message.bytes', value: String(OVERSIZE_TOPIC_MAX_BYTES) }] : [],
        })),
      });
    } catch (err) {
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    } finally {
      await admin.disconnect();
    }
  }

  // acks -1 and one request in flight: what an idempotent kafkajs producer needs to keep order.
  // Bounded retries (kafkajs warns about them once): a dead broker should surface as send
  // errors in the progress line, not as a generator that silently stops producing.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  await producer.connect();

  const start = now();
  const shop = createStorefront({ ...storefrontOptions, startAt: start });
  const backlog = new Backlog();
  const byKind = Object.fromEntries(EVENT_KINDS.map((k) => [k, 0])) as Record<EventKind, number>;
  let sent = 0;
  let failed = 0;
  let malformed = 0;
  let errors = 0;
  let lastError: string | undefined;
  let inflight: Promise<void> | null = null;
  let inflightCount = 0;

  const sendNext = (): void => {
    const batch = backlog.take();
    if (batch.length === 0) return;
    inflightCount = batch.length;
    inflight = producer
      .sendBatch({ topicMessages: toTopicMessages(batch), acks: -1, compression })
      .then(
        () => {
          sent += batch.length;
          for (const m of batch) {
            byKind[m.kind]++;
            if (m.malformed) malformed++;
          }
          deps.onSent?.(batch, now());
        },
        (err: unknown) => {
          failed += batch.length;
          errors++;
          lastError = errorMessage(err);
          print(`[generate] send failed (${batch.length} messages): ${lastError}`);
        },
      )
      .finally(() => {
        inflight = null;
        inflightCount = 0;
      });
  };

  let stopRequested = deps.signal?.aborted ?? false;
  let wake: () => void = () => {};
  const onAbort = (): void => {
    stopRequested = true;
    wake();
  };
  deps.signal?.addEventListener('abort', onAbort, { once: true });

  const target = opts.count ?? Number.POSITIVE_INFINITY;
  const interval = opts.rate > 0 ? 1000 / opts.rate : 0;
  let stoppedBy: StopReason = 'signal';
  let lastReport = start;
  let sentAtLastReport = 0;

  try {
    for (;;) {
      const t = now();
      if (stopRequested) break;
      if (opts.durationMs > 0 && t - start >= opts.durationMs) {
        stoppedBy = 'duration';
        break;
      }
      const generated = shop.generated;
      if (generated >= target && backlog.length === 0 && !inflight) {
        stoppedBy = 'count';
        break;
      }
      // Token bucket: everything due by now, each stamped with its scheduled time.
      const due = Math.min(target, opts.rate > 0 ? Math.floor(((t - start) * opts.rate) / 1000) : Number.POSITIVE_INFINITY);
      const room = capacity - backlog.length;
      const n = Math.min(due - generated, room, opts.rate > 0 ? Number.POSITIVE_INFINITY : 2 * MAX_BATCH_MESSAGES);
      for (let i = 0; i < n; i++) {
        const scheduled = interval > 0 ? Math.min(t, start + (shop.generated + 1) * interval) : t;
        backlog.push(shop.next(Math.round(scheduled)));
      }
      if (!inflight && backlog.length > 0) sendNext();

      if (reportEveryMs > 0 && t - lastReport >= reportEveryMs) {
        const rate = ((sent - sentAtLastReport) * 1000) / (t - lastReport);
        const behind = opts.rate > 0 ? Math.max(0, due - shop.generated) : 0;
        print(
          `[generate] t=${((t - start) / 1000).toFixed(1)}s sent=${sent} rate=${rate.toFixed(1)}/s` +
            (opts.rate > 0 ? ` target=${opts.rate}/s` : '') +
            ` errors=${errors} failed=${failed} malformed=${malformed} backlog=${backlog.length + inflightCount}` +
            (behind > 0 ? ` behind=${behind}` : ''),
        );
        lastReport = t;
        sentAtLastReport = sent;
      }

      // Wake on the next tick, when a send completes (to keep the pipe full), or on abort.
      const waits: Array<Promise<unknown>> = [sleep(tickMs), new Promise<void>((resolve) => (wake = resolve))];
      if (inflight) waits.push(inflight);
      await Promise.race(waits);
    }

    // Flush what is queued, bounded: a dead broker must not hang shutdown.
    const deadline = now() + shutdownTimeoutMs;
    while ((backlog.length > 0 || inflight) && now() < deadline) {
      if (!inflight) sendNext();
      if (inflight) await within(inflight, Math.max(0, deadline - now()), undefined);
    }
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await within(
      producer.disconnect().catch(() => undefined),
      shutdownTimeoutMs,
      undefined,
    );
  }

  const elapsedMs = Math.max(1, now() - start);
  const summary: GenerateSummary = {
    stoppedBy,
    seed: opts.seed,
    topics,
    generated: shop.generated,
    sent,
    failed,
    unsent: backlog.length + inflightCount,
    malformed,
    byKind,
    errors,
    lastError,
    elapsedMs,
    achievedRate: (sent * 1000) / elapsedMs,
  };
  print(
    `[generate] done (${stoppedBy}): sent=${sent} failed=${failed} unsent=${summary.unsent} malformed=${malformed}` +
      ` in ${(elapsedMs / 1000).toFixed(2)}s (${summary.achievedRate.toFixed(1)}/s); ` +
      EVENT_KINDS.map((k) => `${k}=${byKind[k]}`).join(' ') +
      `; seed=${opts.seed}` +
      (lastError ? `; last error: ${lastError}` : ''),
  );
  return summary;
}

function parseCount(name: string, min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}.`);
    return n;
  };
}

function parseNumber(name: string, min: number, max = Number.POSITIVE_INFINITY): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max === Number.POSITIVE_INFINITY ? '∞' : max}].`);
    }
    return n;
  };
}

/** `--duration`: the one duration grammar (`60s`, `5m`, `1h`), `0` = forever. */
function parseDurationFlag(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(`duration must be ${DURATION_GRAMMAR} (0 = forever).`);
  return ms;
}

function parseCompression(text: string): 'none' | CodecName {
  if (!Object.hasOwn(COMPRESSION_TYPES, text)) throw new InvalidArgumentError(`compression must be one of ${Object.keys(COMPRESSION_TYPES).join(', ')}.`);
  return text as 'none' | CodecName;
}

function parseBrokers(text: string): string[] {
  const brokers = text.split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0 || brokers.some((b) => !/^[^:\s]+:\d+$/.test(b))) throw new InvalidArgumentError('brokers must be host:port[,host:port…].');
  return brokers;
}

interface GenerateFlags {
  rate: number;
  customers: number;
  duration: number;
  count?: number;
  seed?: number;
  malformedRatio: number;
  quietRatio?: number;
  activitySkew?: number;
  brokers?: string[];
  compression: 'none' | CodecName;
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
  includeOversize: boolean;
  createTopics: boolean;
}

/**
 * Adds `labelstream generate`: synthetic storefront traffic to the raw topics.
 *
 * @example
 * labelstream generate --rate 200 --customers 5000 --duration 5m
 * labelstream generate --rate 0 --count 1000000 --seed 7 --topic-prefix bench-1.   # preload
 */
export function registerGenerate(program: Command): void {
  withEnvironment(
    program
      .command('generate')
      .description('Produce realistic synthetic storefront activity (purchases, email clicks, support tickets) to the raw Kafka topics.')
      .option('--rate <events/s>', 'target events per second, open loop; 0 = as fast as possible', parseNumber('rate', 0), 100)
      .option('--customers <n>', 'number of simulated customers', parseCount('customers', 1), 1000)
      .option('--duration <d>', 'stop after e.g. 60s, 5m, 1h; 0 = run until --count or Ctrl-C', parseDurationFlag, 0)
      .option('--count <n>', 'send exactly n messages, then exit', parseCount('count', 1))
      .option('--seed <n>', 'PRNG seed; the same seed replays the same eventIds (default: random, printed)', parseCount('seed', 0))
      .option('--malformed-ratio <r>', 'fraction of malformed messages', parseNumber('malformed-ratio', 0, 1), 0.005)
      .option('--quiet-ratio <r>', 'fraction of customers who go quiet after a while (default 0.2)', parseNumber('quiet-ratio', 0, 0.999))
      .option('--activity-skew <s>', 'Zipf exponent of per-customer activity (default 1.1)', parseNumber('activity-skew', 0))
      .option('--brokers <list>', 'Kafka bootstrap servers (default: $KAFKA_BROKERS or 127.0.0.1:9092)', parseBrokers)
      .option('--compression <codec>', 'codec of the produced batches: none, gzip, snappy, lz4, zstd', parseCompression, 'none')
      .option('--topic-prefix <prefix>', 'prefix for the storefront.* topic names', '')
      .option('--partitions <n>', 'partitions of topics this command creates', parseCount('partitions', 1), 3)
      .option('--replication-factor <n>', 'replication factor of created topics; -1 = broker default', parseCount('replication-factor', -1), -1)
      .option('--include-oversize', 'also emit the rare > 1 MiB malformed message (created topics allow 2 MiB)', false)
      .option('--no-create-topics', 'do not create missing topics'),
    [['KAFKA_BROKERS', 'default for --brokers']],
  ).action(async (flags: GenerateFlags) => {
      const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
      const brokers = flags.brokers ?? parseBrokers(process.env.KAFKA_BROKERS || '127.0.0.1:9092');
      const storefront: GenerateOptions['storefront'] = {};
      if (flags.quietRatio !== undefined) storefront.quietRatio = flags.quietRatio;
      if (flags.activitySkew !== undefined) storefront.activitySkew = flags.activitySkew;
      console.log(
        `[generate] brokers=${brokers.join(',')} rate=${flags.rate === 0 ? 'max' : `${flags.rate}/s`} customers=${flags.customers}` +
          ` seed=${seed} malformed-ratio=${flags.malformedRatio}` +
          (flags.count ? ` count=${flags.count}` : '') +
          (flags.duration ? ` duration=${flags.duration / 1000}s` : ''),
      );

      // First signal: stop and flush (bounded). Second: give up at once.
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          console.error(`[generate] ${sig} again: exiting without flushing`);
          process.exit(130);
        }
        console.log(`[generate] ${sig}: stopping, flushing queued messages…`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await runGenerator(
          {
            brokers,
            rate: flags.rate,
            customers: flags.customers,
            durationMs: flags.duration,
            count: flags.count,
            seed,
            malformedRatio: flags.malformedRatio,
            topicPrefix: flags.topicPrefix,
            compression: flags.compression,
            createTopics: flags.createTopics,
            partitions: flags.partitions,
            replicationFactor: flags.replicationFactor,
            includeOversize: flags.includeOversize,
            storefront,
          },
          { signal: controller.signal },
        );
        // Scripts preloading with --count must know when not everything was delivered.
        if (summary.failed > 0 || summary.unsent > 0) process.exitCode = 1;
        // A timed-out flush may leave kafkajs sockets open that would keep the process alive.
        if (summary.unsent > 0) process.exit(1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
