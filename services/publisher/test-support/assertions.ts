/**
 * Assertions on the publisher's outputs shared by its integration tests (jest's `expect`).
 */
import type { Kafka } from 'kafkajs';
import { customerLabelsType, labelEventType, type CustomerLabels, type LabelDecision, type LabelEvent } from '@labelstream/contracts';
import type { Registry } from '@labelstream/kafka';
import type { Metrics } from '@labelstream/observability';
import { eventIdFor, eventTypeFor, PUBLIC_HEADERS } from '@labelstream/publishing';
import { decodeAll, header, readTopic, type FakeEvaluator, type TopicRecord } from './index';

/** Sum of a metric's values whose labels include `labels`. */
export async function metricValue(metrics: Metrics, name: string, labels: { [k: string]: string } = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (m?.values ?? []) as Array<{ value: number; labels: { [k: string]: string | number } }>;
  return values.filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)).reduce((s, v) => s + v.value, 0);
}

/** Sum of a metric's samples in Prometheus text (a child process's /metrics). */
export function metricFromText(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

export interface ExpectedEvent {
  eventId: string;
  customerId: string;
  label: string;
  type: string;
  decisionId: string;
}

/** The public events the decisions imply, in decision order. */
export function expectedEvents(decisions: LabelDecision[]): ExpectedEvent[] {
  return decisions.flatMap((d) =>
    d.changes.map((c) => ({ eventId: eventIdFor(d.decisionId, c.label, eventTypeFor(c.change)), customerId: d.customerId, label: c.label, type: eventTypeFor(c.change), decisionId: d.decisionId })),
  );
}

function byCustomer(xs: Array<{ customerId: string; eventId: string }>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const x of xs) {
    const list = m.get(x.customerId);
    if (list) list.push(x.eventId);
    else m.set(x.customerId, [x.eventId]);
  }
  return m;
}

/**
 * Exactly once and in order: every change the decisions imply is on the label-events topic
 * once (no gap, no duplicate), each customer's events are in decision order, and each
 * record sits on its source partition with the position headers.
 */
export async function expectExactlyOnce(
  kafka: Kafka,
  registry: Registry,
  topic: string,
  decisions: LabelDecision[],
  opts: { transactional?: boolean } = {},
): Promise<Array<{ record: TopicRecord; value: LabelEvent }>> {
  const expected = expectedEvents(decisions);
  const records = await readTopic(kafka, topic, opts.transactional ? { expectCount: expected.length } : {});
  const events = await decodeAll<LabelEvent>(registry, records, labelEventType);
  const ids = events.map((e) => e.value.eventId);
  const seen = new Set<string>();
  const dupes = ids.filter((id) => seen.has(id) || !seen.add(id));
  expect(dupes).toEqual([]);
  const missing = expected.filter((e) => !seen.has(e.eventId));
  expect(missing).toEqual([]);
  expect(ids.length).toBe(expected.length);
  expect(byCustomer(events.map((e) => e.value))).toEqual(byCustomer(expected));
  const lastSeq = new Map<number, number>();
  for (const { record, value } of events) {
    expect(record.key?.toString()).toBe(value.customerId);
    const seq = Number(header(record, PUBLIC_HEADERS.seq));
    expect(`${record.partition}-${seq}`).toBe(value.decisionId);
    expect(header(record, PUBLIC_HEADERS.sourcePartition)).toBe(String(record.partition));
    expect(header(record, PUBLIC_HEADERS.decisionId)).toBe(value.decisionId);
    expect(header(record, PUBLIC_HEADERS.rulesVersion)).toBe(value.rulesVersion);
    // Within a partition the ls-seq headers never go down: the tail is the high-water mark.
    expect(seq).toBeGreaterThanOrEqual(lastSeq.get(record.partition) ?? 0);
    lastSeq.set(record.partition, seq);
  }
  return events;
}

/** The latest current-labels record of each customer is the evaluator's final set. */
export async function expectCurrentSets(kafka: Kafka, registry: Registry, topic: string, evaluator: FakeEvaluator): Promise<void> {
  const decoded = await decodeAll<CustomerLabels>(registry, await readTopic(kafka, topic), customerLabelsType);
  const latest = new Map<string, CustomerLabels>();
  for (const { record, value } of decoded) {
    expect(record.key?.toString()).toBe(value.customerId);
    latest.set(value.customerId, value);
  }
  expect(latest.size).toBe(evaluator.labels.size);
  for (const [customerId, set] of evaluator.labels) {
    const got = latest.get(customerId)!;
    expect(got.labels.map((l) => l.label)).toEqual([...set].sort());
    for (const l of got.labels) expect(l.category).not.toBe('unknown');
  }
}

/**
 * The guarantee that remains when a paused former owner (a zombie) sends after a takeover:
 * every change is published (no gap), a duplicate is always an exact re-send of an event
 * already published (same eventId, so consumers dedupe it), and keeping the first
 * occurrence of each eventId gives every customer's changes in decision order.
 * Returns the number of duplicate records.
 */
export async function expectNoGapsAndDedupableOrder(kafka: Kafka, registry: Registry, topic: string, decisions: LabelDecision[]): Promise<number> {
  const events = await decodeAll<LabelEvent>(registry, await readTopic(kafka, topic), labelEventType);
  const expected = expectedEvents(decisions);
  const byId = new Map(expected.map((e) => [e.eventId, e]));
  const seen = new Set<string>();
  const firsts: LabelEvent[] = [];
  let duplicates = 0;
  for (const { value } of events) {
    expect(byId.has(value.eventId)).toBe(true); // nothing invented
    if (seen.has(value.eventId)) duplicates++;
    else {
      seen.add(value.eventId);
      firsts.push(value);
    }
  }
  expect(expected.filter((e) => !seen.has(e.eventId))).toEqual([]);
  expect(byCustomer(firsts)).toEqual(byCustomer(expected));
  return duplicates;
}
