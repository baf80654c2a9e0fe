'use strict';
/* global fetch, AbortSignal */
/**
 * One isolated pipeline of a benchmark run: its own raw and pipeline topics (created with
 * the run's partition count), consumer groups, Redis key prefix and schema subjects, the
 * three built services started against them, and a cleanup that removes all of it again
 * (never the registry's own `_registry*` topics).
 */
const path = require('node:path');
const { startService, metricSum, sleep } = require('./services.cjs');
const { ROOT } = require('./system.cjs');

/** Names of everything a pipeline with prefix `p` owns. */
function pipelineNames(p) {
  return {
    prefix: p,
    raw: {
      purchases: `${p}.storefront.purchases`,
      emailClicks: `${p}.storefront.email-clicks`,
      supportTickets: `${p}.storefront.support-tickets`,
    },
    topics: {
      TOPIC_RAW_PURCHASES: `${p}.storefront.purchases`,
      TOPIC_RAW_EMAIL_CLICKS: `${p}.storefront.email-clicks`,
      TOPIC_RAW_SUPPORT_TICKETS: `${p}.storefront.support-tickets`,
      TOPIC_CUSTOMER_EVENTS: `${p}.customer-events`,
      TOPIC_DLQ: `${p}.dlq`,
      TOPIC_DECISIONS: `${p}.decisions`,
      TOPIC_LABEL_EVENTS: `${p}.label-events`,
      TOPIC_CUSTOMER_LABELS: `${p}.customer-labels`,
    },
    groups: { ingest: `${p}-ingest`, evaluator: `${p}-evaluator`, publisher: `${p}-publisher` },
    // REDIS_KEY_PREFIX allows [a-z0-9_-]{1,32}.
    keyPrefix: p.replace(/[^a-z0-9_-]/g, '').slice(0, 32),
  };
}

/**
 * Creates the pipeline's topics: the raw storefront topics with `rawPartitions` (an input
 * the platform teams choose), the pipeline's own with `partitions` (co-partitioned, as the
 * services check).
 */
async function createPipelineTopics(admin, names, partitions, rawPartitions = partitions) {
  const t = names.topics;
  const raw = [t.TOPIC_RAW_PURCHASES, t.TOPIC_RAW_EMAIL_CLICKS, t.TOPIC_RAW_SUPPORT_TICKETS];
  const plain = [t.TOPIC_CUSTOMER_EVENTS, t.TOPIC_DLQ, t.TOPIC_DECISIONS, t.TOPIC_LABEL_EVENTS];
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      ...raw.map((topic) => ({ topic, numPartitions: rawPartitions, replicationFactor: 1 })),
      ...plain.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      { topic: t.TOPIC_CUSTOMER_LABELS, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ],
  });
}

/**
 * Starts evaluator and publisher first (their inputs are still empty, so they just join),
 * then ingest: the pipeline's clock starts when ingest is ready, with nothing else still
 * booting. Returns the services and the time ingest became ready.
 */
async function startPipeline({ env, names, partitions, rulesFile, tag, profileDir, nodeOptions, serviceEnv, evaluators = 1 }) {
  const common = {
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    KAFKA_BROKERS: env.kafkaBrokers,
    SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
    LOG_LEVEL: 'warn',
    TOPIC_PARTITIONS: String(partitions),
    SHUTDOWN_TIMEOUT: '10s',
    ...(serviceEnv ?? {}),
    ...names.topics,
  };
  const evaluatorArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // Several evaluator processes share one consumer group (each takes some partitions).
  const members = [];
  for (let i = 0; i < evaluators; i++) {
    members.push(
      await startService(
        'evaluator',
        { ...common, EVALUATOR_GROUP_ID: names.groups.evaluator, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: names.keyPrefix, RULES_FILE: path.resolve(ROOT, rulesFile) },
        { tag: evaluators > 1 ? `${tag}-${i + 1}` : tag, nodeArgs: evaluatorArgs },
      ),
    );
  }
  const evaluator = evaluatorGroup(members);
  const publisher = await startService('publisher', { ...common, PUBLISHER_GROUP_ID: names.groups.publisher }, { tag, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  const ingest = await startService('ingest', { ...common, INGEST_GROUP_ID: names.groups.ingest }, { tag, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  const readyAt = Date.now();
  return { ingest, evaluator, publisher, readyAt };
}

/**
 * The evaluator processes as one service: metrics concatenated (counters are summed by
 * metricSum), every pid (CPU is summed), stopped together.
 */
function evaluatorGroup(members) {
  if (members.length === 1) return Object.assign(members[0], { members, pids: [members[0].pid] });
  return {
    name: 'evaluator',
    members,
    pid: members[0].pid,
    pids: members.map((m) => m.pid),
    port: members[0].port,
    logFile: members[0].logFile,
    metrics: async () => (await Promise.all(members.map((m) => m.metrics()))).join('\n'),
    stop: async (ms) => {
      await Promise.all(members.map((m) => m.stop(ms)));
    },
    alive: () => members.every((m) => m.alive()),
  };
}

/** The counters the benchmark follows, from one scrape of each service. */
async function pipelineCounters(svcs, names) {
  const [mi, me, mp] = await Promise.all([svcs.ingest.metrics(), svcs.evaluator.metrics(), svcs.publisher.metrics()]);
  const t = names.topics;
  return {
    at: Date.now(),
    ingestIn: metricSum(mi, 'labelstream_events_consumed_total'),
    ingestOut: metricSum(mi, 'labelstream_events_produced_total', { topic: t.TOPIC_CUSTOMER_EVENTS }),
    ingestDlq: metricSum(mi, 'labelstream_dlq_total'),
    evaluatorIn: metricSum(me, 'labelstream_events_consumed_total'),
    decisions: metricSum(me, 'labelstream_events_produced_total', { topic: t.TOPIC_DECISIONS }),
    publisherIn: metricSum(mp, 'labelstream_events_consumed_total'),
    labelEvents: metricSum(mp, 'labelstream_events_produced_total', { topic: t.TOPIC_LABEL_EVENTS }),
    raw: { ingest: mi, evaluator: me, publisher: mp },
  };
}

/** Whether `groupId` has committed every partition of `topic` up to its end. */
async function groupCaughtUp(admin, groupId, topic) {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return ends.every((e) => BigInt(e.high) === BigInt(e.low) || (done.get(e.partition) ?? -1n) >= BigInt(e.high));
}

/**
 * Waits until every stage has consumed everything upstream produced (and decisions stopped
 * growing), polling every `everyMs`; `onSample` sees each sample. Throws after `timeoutMs`.
 *
 * The services count consumed events when they decode them, before the work on them is
 * done; an evaluator in a long synchronous stretch may also answer /metrics between two
 * partitions' batches of one fetch with counters that look final. So with `admin`, done
 * also needs the evaluator's and the publisher's groups to have committed their inputs to
 * the end — they commit only after their outputs were acknowledged.
 */
async function waitDrained(svcs, names, { rawCount, timeoutMs, everyMs = 500, onSample, progress, admin }) {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  let stableSince = 0;
  let prev;
  let failingSince = 0;
  for (;;) {
    let c;
    try {
      c = await pipelineCounters(svcs, names);
      failingSince = 0;
    } catch (err) {
      // A service busy in one long synchronous stretch answers late: note it and ask again.
      failingSince ||= Date.now();
      if (Date.now() - failingSince > 60_000) throw new Error(`metrics unreachable for 60 s: ${err.message}`);
      progress?.({ at: Date.now(), scrapeError: err.message });
      continue;
    }
    onSample?.(c);
    const ingestDone = rawCount === undefined ? true : c.ingestIn >= rawCount;
    let done = ingestDone && c.evaluatorIn >= c.ingestOut && c.publisherIn >= c.decisions;
    if (done && admin) {
      done =
        (await groupCaughtUp(admin, names.groups.evaluator, names.topics.TOPIC_CUSTOMER_EVENTS)) &&
        (await groupCaughtUp(admin, names.groups.publisher, names.topics.TOPIC_DECISIONS));
    }
    const same = prev && prev.decisions === c.decisions && prev.ingestOut === c.ingestOut && prev.labelEvents === c.labelEvents;
    if (done && same) {
      if (!stableSince) stableSince = c.at;
      // One more quiet sample: a batch in flight at the evaluator may still add decisions.
      if (c.at - stableSince >= everyMs) return c;
    } else {
      stableSince = 0;
    }
    prev = c;
    if (progress && c.at - lastPrint >= 5000) {
      lastPrint = c.at;
      progress(c);
    }
    if (Date.now() > deadline) throw new Error(`pipeline did not drain within ${Math.round(timeoutMs / 1000)} s (last counters: ${JSON.stringify({ ...c, raw: undefined })})`);
    for (const s of Object.values(svcs)) if (s && s.alive && !s.alive()) throw new Error(`${s.name} exited; see ${s.logFile}`);
    await sleep(everyMs);
  }
}

/** Stops the services (bounded), in flow order. */
async function stopPipeline(svcs) {
  for (const s of [svcs.ingest, svcs.evaluator, svcs.publisher]) if (s) await s.stop(15_000).catch(() => undefined);
}

/**
 * Removes what the pipeline left: its topics, consumer groups, Redis keys and schema
 * subjects. Best effort; returns what failed.
 */
async function cleanupPipeline({ admin, redis, registryUrl, names }) {
  const problems = [];
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${names.prefix}.`) && !t.startsWith('_registry'));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch((e) => problems.push(`topics: ${e.message}`));
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(names.prefix));
  let groupsDeleted = 0;
  let pending = groups;
  let reasons = [];
  // One at a time (kafkajs fails the whole call when one group fails), and again a little
  // later for members the coordinator has not yet seen leave.
  for (let attempt = 0; attempt < 4 && pending.length; attempt++) {
    if (attempt) await sleep(3000);
    const failed = [];
    reasons = [];
    for (const g of pending) {
      await admin.deleteGroups([g]).then(
        () => groupsDeleted++,
        (e) => {
          const type = e.groups?.[0]?.error?.type ?? e.type ?? e.message;
          if (type === 'GROUP_ID_NOT_FOUND') return void groupsDeleted++; // nothing left to delete
          failed.push(g);
          reasons.push(`${g} (${type})`);
        },
      );
    }
    pending = failed;
  }
  if (pending.length) problems.push(`groups not deleted: ${reasons.join(', ')}`);
  const removed = await deleteKeys(redis, `${names.keyPrefix}:*`).catch((e) => problems.push(`redis: ${e.message}`));
  for (const topic of [names.topics.TOPIC_CUSTOMER_EVENTS, names.topics.TOPIC_DECISIONS, names.topics.TOPIC_LABEL_EVENTS, names.topics.TOPIC_CUSTOMER_LABELS]) {
    const subject = encodeURIComponent(`${topic}-value`);
    for (const q of ['', '?permanent=true']) {
      await fetch(`${registryUrl.replace(/\/$/, '')}/subjects/${subject}${q}`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    }
  }
  return { topics: topics.length, groups: groupsDeleted, redisKeys: typeof removed === 'number' ? removed : 0, problems };
}

/** UNLINKs every key matching `pattern` (SCAN, so Redis never blocks on it). Returns the count. */
async function deleteKeys(redis, pattern) {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

module.exports = { evaluatorGroup, pipelineNames, createPipelineTopics, startPipeline, pipelineCounters, waitDrained, stopPipeline, cleanupPipeline, deleteKeys };
