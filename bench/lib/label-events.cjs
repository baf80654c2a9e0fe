'use strict';
/**
 * Follows a run's public label-events topic and hands each decision's first label event
 * (decoded) to `onDecision` — a decision's label events share cause and publishedAt, so
 * latency is counted once per decision.
 */
const pkgs = require('./pkgs.cjs');

async function followLabelEvents({ kafka, env, topic, groupId, fromBeginning, onDecision }) {
  const { Registry } = pkgs.kafka;
  const { labelEventType } = pkgs.contracts;
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 20, sessionTimeout: 30_000 });
  const seen = new Set();
  let received = 0;
  let joined;
  const join = new Promise((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      for (const m of batch.messages) {
        received++;
        // The decision id is a header too: decode only a decision's first label event (the
        // follower shares the machine with the pipeline, so it should cost little).
        const header = m.headers?.['ls-decision-id']?.toString();
        if (header !== undefined && seen.has(header)) continue;
        const e = await registry.decode(m.value, labelEventType);
        if (seen.has(e.decisionId)) continue;
        seen.add(e.decisionId);
        onDecision(e, at);
      }
    },
  });
  await join;
  return {
    received: () => received,
    decisions: () => seen.size,
    stop: () => consumer.disconnect(),
  };
}

/**
 * The newest `publishedAt` among the last label event of each partition of `topic`: a
 * throw-away consumer seeks every non-empty partition to its last offset.
 */
async function lastPublishedAt({ kafka, admin, env, topic, groupId, timeoutMs = 30_000 }) {
  const { Registry } = pkgs.kafka;
  const { labelEventType } = pkgs.contracts;
  const registry = new Registry({ url: env.schemaRegistryUrl });
  const targets = new Map();
  for (const o of await admin.fetchTopicOffsets(topic)) if (BigInt(o.high) > BigInt(o.low)) targets.set(o.partition, BigInt(o.high) - 1n);
  if (!targets.size) return 0;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  let newest = 0;
  const seen = new Set();
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        for (const m of batch.messages) {
          if (target === undefined || BigInt(m.offset) < target) continue;
          const e = await registry.decode(m.value, labelEventType);
          newest = Math.max(newest, Number(e.publishedAt));
          seen.add(batch.partition);
        }
        if (seen.size === targets.size) done();
      },
    });
    for (const [partition, offset] of targets) consumer.seek({ topic, partition, offset: offset.toString() });
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return newest;
}

module.exports = { followLabelEvents, lastPublishedAt };
