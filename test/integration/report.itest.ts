/**
 * `labelstream report` end to end: synthetic label events, encoded as the publisher encodes
 * them (Confluent-framed Avro under the topic's registered subject), on a topic of their own;
 * the CLI (as built) reads it to its end and writes the page; headless Chromium renders it.
 * The DOM must carry the figures the events imply, and the screenshot is kept under
 * .cache/test-artifacts/report/ for a person to look at.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { COMPATIBILITY, labelEventSchema, labelEventType, subjectFor, type LabelEvent } from '@labelstream/contracts';
import { Registry } from '@labelstream/kafka';
import { connectStack, createTestTopics, testKafka, uniqueName, type StackEnv } from '@labelstream/testkit';
import { chromiumPath, dumpDom, screenshot } from '../support/chromium';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');
const ARTIFACTS = join(ROOT, '.cache/test-artifacts/report');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** 60 customers over six days: everyone becomes a customer, a third high-value (some leave), half flap on engaged. */
function syntheticEvents(now: number): LabelEvent[] {
  const start = Math.floor((now - 6 * DAY) / HOUR) * HOUR;
  const out: LabelEvent[] = [];
  let seq = 0;
  const push = (type: LabelEvent['type'], customerId: string, label: string, category: string, at: number) => {
    const id = `d-${seq++}`;
    out.push({
      eventId: `${id}-${label}-${type}`,
      type,
      customerId,
      label,
      category,
      effectiveAt: at,
      publishedAt: at + 40,
      rulesVersion: at < start + 3 * DAY ? '2026-11-20.1' : '2026-11-23.1',
      reason: type === 'LABEL_ASSIGNED' ? 'enter' : 'exit',
      features: { orders_lifetime: 1 },
      causeEventId: `e-${id}`,
      decisionId: id,
      cause: 'EVENT',
    });
  };
  for (let i = 0; i < 60; i++) {
    const c = `c-${String(i).padStart(6, '0')}`;
    const t = start + (i % 48) * HOUR;
    push('LABEL_ASSIGNED', c, 'customer', 'lifecycle', t);
    if (i % 3 === 0) {
      push('LABEL_ASSIGNED', c, 'high_value', 'value', t + DAY);
      if (i % 4 === 0) push('LABEL_REMOVED', c, 'high_value', 'value', t + 3 * DAY + HOUR);
    }
    if (i % 2 === 0) {
      push('LABEL_ASSIGNED', c, 'engaged', 'behaviour', t + 2 * DAY);
      push('LABEL_REMOVED', c, 'engaged', 'behaviour', t + 2 * DAY + 3 * HOUR); // a flap (< 24h)
      if (i % 6 === 0) push('LABEL_ASSIGNED', c, 'engaged', 'behaviour', t + 3 * DAY);
    }
  }
  return out.sort((a, b) => a.effectiveAt - b.effectiveAt);
}

function run(args: string[], env: StackEnv): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    timeout: 90_000,
    env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: env.schemaRegistryUrl },
  });
}

function attr(html: string, re: RegExp): string {
  const m = re.exec(html);
  if (!m) throw new Error(`not in the rendered DOM: ${re}`);
  return m[1]!;
}

describe('labelstream report (CLI → HTML → headless Chromium)', () => {
  let env: StackEnv;
  const topic = uniqueName('it-report');
  const now = Date.now();
  const events = syntheticEvents(now);
  const out = join(ARTIFACTS, 'report.html');
  const png = join(ARTIFACTS, 'report.png');

  beforeAll(async () => {
    chromiumPath(); // fail first, with the install advice, when the browser is missing
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm build (scripts/test.sh does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    env = await connectStack();
    const kafka = testKafka(env);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopics(admin, [{ topic, partitions: 3 }]);
    await admin.disconnect();
    const registry = new Registry({ url: env.schemaRegistryUrl });
    const id = await registry.register(subjectFor(topic), labelEventSchema as object, COMPATIBILITY);
    const encode = registry.encoder<LabelEvent>(id, labelEventType);
    const producer = kafka.producer();
    await producer.connect();
    const messages = events.map((e) => ({ key: e.customerId, value: encode(e) }));
    messages.push({ ...messages[0]! }); // a re-send of the same event: counted once
    await producer.send({ topic, messages });
    await producer.disconnect();
  });

  it('reads the topic to its end with progress on stderr, and the page renders with data', async () => {
    const { stdout, stderr } = await run(['report', '--topic', topic, '--out', out, '--since', '7d', '--rules', 'rules/default.yaml'], env);
    expect(stdout.trim()).toBe(out);
    expect(stderr).toMatch(/reading label events: \d+ of ~\d+ \(\d+%\)/);
    expect(stderr).toContain(`report: ${events.length} label events, 60 customers`);

    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/); // nothing fetched at view time

    const dom = await dumpDom(out);
    expect(attr(dom, /data-report="labelstream" data-events="(\d+)"/)).toBe(String(events.length));
    expect(Number(attr(dom, /data-chart="population" data-series="(\d+)"/))).toBe(13); // the default rules' labels
    expect(Number(attr(dom, /data-chart="population" data-series="\d+" data-points="(\d+)"/))).toBeGreaterThanOrEqual(6);
    // Population lines: everyone is a customer; 20 became high-value, 5 of whom left; 10 re-engaged.
    expect(attr(dom, /data-label="customer" data-last="(\d+)"/)).toBe('60');
    expect(attr(dom, /data-label="high_value" data-last="(\d+)" data-max="\d+"/)).toBe('15');
    // (its peak, at the end of a day: some leave before the last ones arrive)
    expect(Number(attr(dom, /data-label="high_value" data-last="\d+" data-max="(\d+)"/))).toBeGreaterThan(15);
    expect(attr(dom, /data-label="engaged" data-last="(\d+)"/)).toBe('10');
    const entries = events.filter((e) => e.type === 'LABEL_ASSIGNED').length;
    expect(attr(dom, /data-chart="entries-exits" data-entries="(\d+)"/)).toBe(String(entries));
    expect(attr(dom, /data-chart="entries-exits" data-entries="\d+" data-exits="(\d+)"/)).toBe(String(events.length - entries));
    expect(attr(dom, /<tr data-label="engaged" data-population="\d+" data-entries="\d+" data-exits="\d+" data-flaps="(\d+)"/)).toBe('30');
    expect(attr(dom, /data-a="high_value" data-b="customer" data-share="([\d.]+)"/)).toBe('1.0000');
    expect(attr(dom, /data-a="customer" data-b="high_value" data-share="([\d.]+)"/)).toBe('0.2500');
    // Health findings and the rules versions.
    expect(dom).toContain("'engaged' flaps: 30 of its 30 exits came within 1d of the entry");
    expect(dom).toContain('Held by almost every customer seen: customer.');
    expect(dom).toMatch(/Never fired: first_time_buyer, repeat_customer, inactive, lead, loyal, advocate,/);
    expect(dom).toContain('2 rules versions decided these events');
    expect(dom).toContain('<code>2026-11-23.1</code> <span class="badge ok">in the rules file</span>');
    expect(attr(dom, /data-category="lifecycle" data-count="(\d+)"/)).toBe('5');

    await screenshot(out, png);
    const buf = readFileSync(png);
    expect(buf.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(30_000); // a blank page is a few kB
  });

  it('says clearly when the topic does not exist', async () => {
    const err = (await run(['report', '--topic', `${topic}-missing`, '--out', join(ARTIFACTS, 'missing.html')], env).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`report: topic ${topic}-missing does not exist`);
  });
});
