/**
 * `labelstream explain` as a person runs it (the built CLI, a child process, stdout not a
 * terminal): against a stand-in admin endpoint that answers exactly as the evaluator does —
 * `explainCustomer`'s shape with a real engine `explain()` under rules/default.yaml,
 * serialised to JSON — so the HTTP, token, JSON and formatting path is covered without
 * running the pipeline (test/e2e/pipeline.itest.ts covers the real endpoint's answer).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { applyEvents, explain, type EngineEvent } from '@labelstream/engine';
import { readRulesFile } from '@labelstream/rules';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');
const RULES = readRulesFile(join(ROOT, 'rules/default.yaml'));
const TOKEN = 'explain-cli-token-0123456789';
const T0 = Date.UTC(2026, 11, 1, 10, 0);
const DAY = 86_400_000;

function purchase(id: string, t: number, amount: number): EngineEvent {
  return { eventId: id, customerId: 'c-000043', eventType: 'PURCHASE', occurredAt: t, attrs: { amountMinor: amount, amountMinorBase: amount, currency: 'EUR', itemCount: 1, quantity: 1, categories: ['outdoor'], skus: [], channel: 'WEB' } };
}

describe('labelstream explain (built CLI against an admin endpoint)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const state = applyEvents(null, [purchase('p1', T0, 30_000), purchase('p2', T0 + DAY, 30_000)], RULES).state;
    const answer = {
      found: true,
      partition: 1,
      version: 4,
      explanation: explain(state, RULES, T0 + 2 * DAY),
      recentDecisions: [{ at: T0 + DAY, cause: 'PURCHASE p2', changes: ['+high_value', '+repeat_customer', '+outdoor_enthusiast'], rules: RULES.version }],
    };
    server = createServer((req, res) => {
      const ok = req.headers.authorization === `Bearer ${TOKEN}`;
      const known = req.url === '/admin/customers/c-000043';
      res.writeHead(!ok ? 401 : known ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(!ok ? { error: 'unauthorised' } : known ? answer : { error: 'no state for this customer' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const run = (args: string[], token: string | undefined) =>
    promisify(execFile)(process.execPath, [CLI, 'explain', ...args, '--url', url], { cwd: ROOT, timeout: 30_000, env: { ...process.env, ADMIN_TOKEN: token ?? '' } });

  it('prints a readable table: held labels first with since and why, no raw JSON, no colour when piped', async () => {
    const { stdout } = await run(['c-000043'], TOKEN);
    expect(stdout).not.toMatch(/undefined|\{"/);
    expect(stdout).not.toContain('\u001b['); // no colour when piped
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`customer c-000043  rules ${RULES.version}, as of 2026-12-03 10:00 UTC`);
    expect(lines).toContain(`Holds 4 labels: high_value, repeat_customer, customer, outdoor_enthusiast  (decided under rules ${RULES.version})`);
    // One table: a header, then held labels first, each row label / held / since / why.
    const header = lines.findIndex((l) => /^LABEL +HELD +SINCE +WHY$/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/^high_value +yes +2026-12-02 10:00 UTC +qualifies: spend_90d >= 50000 {2}\(spend_90d = 60000\)$/);
    expect(lines[header + 2]).toMatch(/^value +1d ago +leaves when spend_90d < 40000$/);
    const firstNotHeld = lines.findIndex((l, i) => i > header && / no +– +/.test(l));
    expect(lines.slice(header + 1, firstNotHeld).filter((l) => / yes /.test(l))).toHaveLength(4);
    expect(stdout).toContain('2026-12-02 10:00 UTC  +high_value +repeat_customer +outdoor_enthusiast  caused by PURCHASE p2');
  });

  it('--json prints the answer as the evaluator gave it', async () => {
    const { stdout } = await run(['c-000043', '--json'], TOKEN);
    expect(JSON.parse(stdout)).toMatchObject({ partition: 1, explanation: { rulesVersion: RULES.version } });
  });

  it('exits 3 for an unknown customer and 2 without a token, with a message', async () => {
    const unknown = (await run(['nobody'], TOKEN).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('explain: 404');
    const noToken = (await run(['c-000043'], undefined).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('set ADMIN_TOKEN');
  });
});
