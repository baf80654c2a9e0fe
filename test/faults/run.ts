/**
 * The fault run (`pnpm test:faults`; RELIABILITY.md explains it and records its figures).
 *
 * Drives the built ingest, evaluator and publisher as processes on the run's own topics,
 * Redis key prefix and redis-server, with a generated storefront workload, while faults
 * happen at random moments: SIGKILL of each service (many times), kill -9 and restart of
 * Redis (AOF on), evaluator scaled 1 → 3 → 1, and — with --broker-restart — restarts of a
 * Kafka broker private to the run. At the end it reads the canonical events ingest
 * accepted, computes the label changes they imply with the reference oracle, and compares
 * them with the public label events: events in, label events expected, missing,
 * unexplained, duplicates (by eventId), out of order. Exit status 0 only when the last
 * four are 0 (and nothing was lost at ingest and no service crashed on its own).
 */
import './workspace-resolve';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { customerEventType, labelEventType, DLQ_HEADERS, type CustomerEvent, type LabelEvent } from '@labelstream/contracts';
import { createRng } from '@labelstream/generator';
import { registerCodecs, Registry } from '@labelstream/kafka';
import { runOracle, type CustomerOutcome } from '@labelstream/oracle';
import { createRedisClient } from '@labelstream/redis-state';
import { loadRules } from '@labelstream/rules';
import { connectStack, createTestTopics, waitFor } from '@labelstream/testkit';
import { runChaos, type FaultRecord } from './chaos';
import { Fleet, type ServiceName } from './fleet';
import { evaluatorBacklog, groupLag, readTopic, type TopicRecord } from './observe';
import { parseOptions, type FaultOptions } from './options';
import { OwnRedisCluster } from './own-cluster';
import { OwnRedis } from './own-redis';
import { PrivateStack } from './private-stack';
import { figures, formatFigures, formatRulesDeploy, formatRecovery, markdownReport, recoveryByKind, verdict, type RulesDeployFigures } from './report';
import { deployMidRun, readSwitches, switchesForOracle, type RulesDeployRecord } from './rules-deploy';
import { startWorkload } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const ROOT = join(__dirname, '..', '..', '..');

/** The commit the run's code is at (short), "-dirty" when tracked files other than docs/ have changes. */
function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=9', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const o: FaultOptions = parseOptions(process.argv.slice(2), process.env);
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  const t0 = Date.now();
  const log = (line: string) => {
    const text = `[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`;
    console.log(text);
    appendFileSync(join(o.outDir, 'timeline.log'), text + '\n');
  };
  log(`options: ${JSON.stringify({ ...o, rulesFile: o.rulesFile.replace(/.*\/rules\//, 'rules/') })}`);
  log(`output in ${o.outDir}`);
  const commit = gitCommit(); // the code as the run starts (builds made meanwhile do not count)

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const f of cleanups.reverse()) await f().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  // SIGTERM too: otherwise a stopped run leaves its private broker, registry, cluster and services behind
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));
  try {
    const redis = o.redisCluster ? await OwnRedisCluster.start(join(o.outDir, 'redis-cluster')) : await OwnRedis.start(join(o.outDir, 'redis'));
    cleanups.push(() => redis.stop());
    log(redis instanceof OwnRedis ? `own redis-server on :${redis.port} (AOF, appendfsync always)` : `own Redis Cluster (3 masters, 3 replicas, AOF everysec): ${redis.url}; REDIS_WAIT_REPLICAS=${o.redisWaitReplicas}`);
    let stack: PrivateStack | undefined;
    let brokers: string;
    let registryUrl: string;
    if (o.brokerRestarts > 0 || o.redisCluster) {
      log('starting a private Kafka broker and registry…');
      // stack.sh only PINGs this Redis: a seed node of the cluster will do
      stack = await PrivateStack.start(join(o.outDir, 'stack'), redis instanceof OwnRedis ? redis.url : `redis://127.0.0.1:${redis.cluster.basePort}`);
      const s = stack;
      cleanups.push(() => s.down());
      brokers = stack.brokers;
      registryUrl = stack.registryUrl;
    } else {
      const env = await connectStack();
      brokers = env.kafkaBrokers.join(',');
      registryUrl = env.schemaRegistryUrl;
    }
    log(`kafka ${brokers}, registry ${registryUrl}`);

    registerCodecs(); // the services write lz4 (KAFKA_COMPRESSION); kafkajs reads only gzip by itself
    const kafka = new Kafka({ clientId: 'faults', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, maxRetryTime: 5000 } });
    const run = `faults-${Date.now().toString(36)}`;
    const topics = {
      TOPIC_RAW_PURCHASES: `${run}.purchases`,
      TOPIC_RAW_EMAIL_CLICKS: `${run}.email-clicks`,
      TOPIC_RAW_SUPPORT_TICKETS: `${run}.support-tickets`,
      TOPIC_CUSTOMER_EVENTS: `${run}.customer-events`,
      TOPIC_DLQ: `${run}.dlq`,
      TOPIC_DECISIONS: `${run}.decisions`,
      TOPIC_LABEL_EVENTS: `${run}.label-events`,
      TOPIC_CUSTOMER_LABELS: `${run}.customer-labels`,
    };
    const raw = [topics.TOPIC_RAW_PURCHASES, topics.TOPIC_RAW_EMAIL_CLICKS, topics.TOPIC_RAW_SUPPORT_TICKETS];
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await createTestTopics(admin, [
      ...raw.map((topic) => ({ topic, partitions: 3 })),
      { topic: topics.TOPIC_DLQ, partitions: 3 },
      ...[topics.TOPIC_CUSTOMER_EVENTS, topics.TOPIC_DECISIONS, topics.TOPIC_LABEL_EVENTS].map((topic) => ({ topic, partitions: o.partitions })),
      { topic: topics.TOPIC_CUSTOMER_LABELS, partitions: o.partitions, config: { 'cleanup.policy': 'compact' } },
    ]);
    if (!o.keepTopics && !stack) cleanups.push(() => admin.deleteTopics({ topics: Object.values(topics) }));
    const groups = { ingest: `${run}-ingest`, evaluator: `${run}-evaluator`, publisher: `${run}-publisher` };
    const keyPrefix = run.replace(/[^a-z0-9_-]/g, '');
    const common = { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, LOG_LEVEL: 'info', TOPIC_PARTITIONS: String(o.partitions), SHUTDOWN_TIMEOUT: '10s', ...topics };
    const envFor = (name: ServiceName): Record<string, string> => {
      // The storefront's customer ids are c-<6+ digits>; its bad-customer-id-format messages rely on that.
      if (name === 'ingest') return { ...common, INGEST_GROUP_ID: groups.ingest, INGEST_CUSTOMER_ID_PATTERN: '^c-[0-9]{6,}$' };
      if (name === 'evaluator') return { ...common, EVALUATOR_GROUP_ID: groups.evaluator, REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix, RULES_FILE: o.rulesFile, REDIS_WAIT_REPLICAS: String(o.redisWaitReplicas), ...(o.rulesDeploy ? { EVALUATOR_SWEEP_RATE: String(o.sweepRate) } : {}) };
      return { ...common, PUBLISHER_GROUP_ID: groups.publisher };
    };
    const fleet = new Fleet(envFor, join(o.outDir, 'logs'), 180_000, o.evaluatorMain ? { evaluator: o.evaluatorMain } : {});
    cleanups.push(() => fleet.stopAll());
    await Promise.all([fleet.start('ingest'), ...Array.from({ length: o.evaluators }, () => fleet.start('evaluator')), fleet.start('publisher')]);
    log(`ingest, ${o.evaluators} evaluator${o.evaluators > 1 ? 's' : ''} and publisher ready`);

    const workload = await startWorkload(kafka, { purchases: topics.TOPIC_RAW_PURCHASES, emailClicks: topics.TOPIC_RAW_EMAIL_CLICKS, supportTickets: topics.TOPIC_RAW_SUPPORT_TICKETS }, o);
    log(`producing ${o.rate} events/s for ${o.customers} customers, event times ${o.leadMs / 1000} s ahead of the wall clock`);
    const progress = setInterval(() => log(`produced ${workload.stats.validIds.size} valid events (${workload.stats.sent} messages)`), 15_000);
    // "Caught up": less than two seconds of input waiting at ingest and at the evaluator.
    const caughtUp = async () => {
      let behind = 0;
      await waitFor(
        'ingest and the evaluator to catch up',
        async () => {
          behind = await Promise.all([groupLag(admin, groups.ingest, raw), groupLag(admin, groups.evaluator, [topics.TOPIC_CUSTOMER_EVENTS])]).then(
            ([a, b]) => a + b,
            () => Number.POSITIVE_INFINITY, // the broker is restarting
          );
          return behind <= o.rate * 2;
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      ).catch(() => log(`still ${behind} messages behind after 180 s; the next fault goes ahead`));
    };
    const rules = loadRules(readFileSync(o.rulesFile, 'utf8'), { source: o.rulesFile });
    const redisClient = createRedisClient(redis.url, { redis: { maxRetriesPerRequest: 3 } });
    redisClient.on('error', () => undefined); // Redis is killed on purpose meanwhile; commands report their own errors
    cleanups.push(async () => redisClient.disconnect());
    let deployed: RulesDeployRecord | undefined;
    const rulesDeploy = async (): Promise<string> => {
      deployed = await deployMidRun({ fleet, redis: redisClient, redisUrl: redis.url, keyPrefix, partitions: o.partitions, rulesFile: o.rulesFile, outDir: o.outDir, rng: createRng(o.seed, 7), log }, rules);
      const d = deployed;
      return `${d.fromVersion} → ${d.toVersion}: all ${o.partitions} partitions switched in ${s1(d.allSwitchedAt - d.deployedAt)} s; ${d.kill}; sweeps done ${s1(d.sweepDoneAt - d.allSwitchedAt)} s after the switch`;
    };
    const faults: FaultRecord[] = await runChaos(
      { kills: o.kills, redisKills: o.redisKills, scaleCycles: o.scaleCycles, brokerRestarts: o.brokerRestarts, gapMs: o.gapMs, ...(o.rulesDeploy ? { rulesDeploy } : {}) },
      { fleet, redis, stack, rng: createRng(o.seed, 5), log, caughtUp },
    );
    log(`faults done: ${faults.length}`);
    await waitFor('the workload to reach its event count', () => workload.stats.validIds.size >= o.events, { timeoutMs: Math.ceil((o.events / o.rate) * 1000) + 600_000, intervalMs: 500 });
    await workload.stop();
    clearInterval(progress);
    const producedUntil = Date.now();
    log(`production stopped: ${workload.stats.validIds.size} valid events; letting the clock run ${o.tailMs / 1000} s so their time-based changes come due`);
    while (Date.now() < producedUntil + o.tailMs) await sleep(1000);

    // The horizon: every change the rules imply up to here must be out.
    const horizon = Date.now();
    let last: unknown;
    await waitFor(
      'the pipeline to catch up (inputs committed to their end, timers due by the horizon fired, outboxes empty)',
      async () => {
        const lag = {
          ingest: await groupLag(admin, groups.ingest, raw),
          evaluator: await groupLag(admin, groups.evaluator, [topics.TOPIC_CUSTOMER_EVENTS]),
          publisher: await groupLag(admin, groups.publisher, [topics.TOPIC_DECISIONS]),
          ...(await evaluatorBacklog(redisClient, keyPrefix, o.partitions, horizon)),
        };
        last = lag;
        return Object.values(lag).every((v) => v === 0);
      },
      { timeoutMs: 300_000, intervalMs: 1000, lastSeen: () => last },
    );
    log('pipeline caught up; reading the topics');

    const registry = new Registry({ url: registryUrl });
    const canonicalRecords = await readTopic(kafka, topics.TOPIC_CUSTOMER_EVENTS);
    const canonical: CustomerEvent[] = [];
    const positions = new Map<CustomerEvent, TopicRecord>();
    for (const r of canonicalRecords) {
      const e = await registry.decode<CustomerEvent>(r.value, customerEventType);
      canonical.push(e);
      positions.set(e, r);
    }
    const dlq = await readTopic(kafka, topics.TOPIC_DLQ);
    const dlqSources = dlq.map((r) => ['sourceTopic', 'sourcePartition', 'sourceOffset'].map((h) => String(r.headers?.[DLQ_HEADERS[h as 'sourceTopic']] ?? '')).join('/'));
    const labelRecords = await readTopic(kafka, topics.TOPIC_LABEL_EVENTS);
    const labelEvents: LabelEvent[] = [];
    for (const r of labelRecords) labelEvents.push(await registry.decode<LabelEvent>(r.value, labelEventType));

    const tOracle = Date.now();
    // With a rules deploy: the oracle switches each customer where its partition's owner
    // recorded the switch (read from Redis now, the final record), re-evaluates it there
    // (the sweep, or whichever event or timer reached it first) and backfills the redefined
    // feature from the whole history (rules-deploy.ts, switchesForOracle). Nothing is taken
    // from the run's output.
    const switches = o.rulesDeploy ? await readSwitches({ redis: redisClient, keyPrefix, partitions: o.partitions }) : [];
    const newRules = deployed ? loadRules(readFileSync(deployed.file, 'utf8'), { source: deployed.file }) : undefined;
    const sweptCustomers = new Set(labelEvents.filter((e) => e.cause === 'RULES_CHANGED').map((e) => e.customerId));
    const oracleWith = (how: { swept: boolean; backfill: boolean } = { swept: true, backfill: true }, moved = 0): Map<string, CustomerOutcome> => {
      if (!newRules) return runOracle(canonical, rules, { horizon });
      const at = switchesForOracle(newRules, switches, positions, how);
      return runOracle(canonical, rules, { horizon, rulesSwitch: (c, events) => {
        const sw = at(c, events);
        return sw && moved ? { ...sw, firstEvent: Math.max(0, sw.firstEvent - moved) } : sw;
      } });
    };
    const oracle = oracleWith();
    log(`oracle: ${canonical.length} canonical records in ${((Date.now() - tOracle) / 1000).toFixed(1)} s`);
    const inputs = {
      sent: { raw: workload.stats.sent, validIds: workload.stats.validIds, malformed: workload.stats.malformed, duplicateCopies: workload.stats.duplicatesSent, late: workload.stats.lateSent, sendErrors: workload.stats.sendErrors },
      canonical,
      dlqSources,
      labelEvents,
      horizon,
    };
    const f = figures({ ...inputs, oracle });
    let rulesDeployFigures: RulesDeployFigures | undefined;
    if (o.rulesDeploy) {
      // The check can fail: the same comparison against oracles that get the switch wrong.
      const wrong = (what: string, other: Map<string, CustomerOutcome>) => {
        const l = figures({ ...inputs, oracle: other }).labelEvents;
        return { what, missing: l.missing, unexplained: l.unexplained, outOfOrder: l.outOfOrder };
      };
      rulesDeployFigures = {
        deploy: deployed ?? null,
        switches,
        sweepLabelEvents: labelEvents.filter((e) => e.cause === 'RULES_CHANGED').length,
        sweptCustomers: sweptCustomers.size,
        underNewRules: labelEvents.filter((e) => newRules && e.rulesVersion === newRules.version).length,
        controls: [
          wrong('no switch (old rules throughout)', runOracle(canonical, rules, { horizon })),
          wrong('switch point one event early per customer', oracleWith(undefined, 1)),
          wrong('re-evaluations at the switch point left out', oracleWith({ swept: false, backfill: true })),
          wrong('backfill left out (the redefined feature starts empty)', oracleWith({ swept: true, backfill: false })),
        ],
      };
    }
    const counts: Record<string, number> = {};
    for (const r of faults) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    const problems = verdict(f, fleet.unexpected.length);
    if (o.rulesDeploy) {
      if (!deployed) problems.push('the rules deploy did not run');
      for (const s of switches) if (s.seq === 0 || s.nextOffset === null || !s.sweepDone) problems.push(`partition ${s.partition}: ${s.seq === 0 ? 'never switched' : s.nextOffset === null ? 'switched without a recorded input offset' : 'sweep not done'}`);
      for (const c of rulesDeployFigures?.controls ?? []) if (c.missing + c.unexplained + c.outOfOrder === 0) problems.push(`control "${c.what}" found nothing: the deploy left no trace the check could miss`);
    }
    const recovery = recoveryByKind(faults);
    const summary = [
      '',
      `==== fault run ${run}: ${((Date.now() - t0) / 60_000).toFixed(1)} min ====`,
      `faults:               ${Object.entries(counts).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`,
      `service starts:       ${Object.entries(fleet.starts).map(([k, n]) => `${k} ${n}`).join(', ')}; unexpected exits: ${fleet.unexpected.length}`,
      formatFigures(f),
      formatRecovery(recovery),
      ...(rulesDeployFigures ? [formatRulesDeploy(rulesDeployFigures)] : []),
      problems.length ? `FAILED: ${problems.join('; ')}` : 'PASSED: 0 missing, 0 unexplained, 0 duplicates, 0 out of order',
      '',
    ].join('\n');
    console.log(summary);
    writeFileSync(join(o.outDir, 'report.txt'), summary);
    writeFileSync(join(o.outDir, 'report.json'), JSON.stringify({ run, options: o, horizon, faults, recovery, unexpectedExits: fleet.unexpected, figures: f, problems, rulesDeploy: rulesDeployFigures }, null, 2));
    const kind = [o.redisCluster ? 'redis-cluster' : o.events >= 100_000 ? 'long' : 'ci', ...(o.redisWaitReplicas ? [`wait${o.redisWaitReplicas}`] : []), ...(o.brokerRestarts ? ['broker-restart'] : []), ...(o.rulesDeploy ? ['rules-deploy'] : [])].join('-');
    const md = markdownReport({
      run,
      kind,
      commit,
      node: process.versions.node,
      startedAt: new Date(t0).toISOString(),
      minutes: (Date.now() - t0) / 60_000,
      command: ['pnpm test:faults', ...process.argv.slice(2)].join(' '),
      figures: f,
      recovery,
      faults,
      starts: fleet.starts,
      unexpectedExits: fleet.unexpected.length,
      problems,
      ...(rulesDeployFigures ? { rulesDeploy: rulesDeployFigures } : {}),
    });
    writeFileSync(join(o.outDir, 'report.md'), md);
    if (o.record) {
      const file = join(ROOT, 'docs', 'runs', `${new Date(t0).toISOString().slice(0, 10)}-${kind}-${commit}.md`);
      mkdirSync(join(ROOT, 'docs', 'runs'), { recursive: true });
      writeFileSync(file, md);
      log(`report recorded in ${file.slice(ROOT.length + 1)} (commit it: it is the evidence docs/RELIABILITY.md links to)`);
    }
    return problems.length ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('fault run failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
