import type { Command } from 'commander';
import { formatExplanation, type ExplainAnswer } from './explain-format';
import { COLOR_ENV, colorOutput, withEnvironment } from './environment';

/**
 * `labelstream explain <customerId>`: asks the evaluator's admin endpoint why a customer has
 * the labels it has (the evaluator owns the state and the rules, so the answer is the one
 * it acts on).
 */
export function registerExplain(program: Command): void {
  withEnvironment(
    program
      .command('explain')
      .description("show a customer's labels as a table — held or not, since when, why (the condition and the feature values that decided it, dwell, group) — and the last changes with their causes")
      .argument('<customerId>')
      .option('--url <url>', 'evaluator admin base URL', process.env.EVALUATOR_ADMIN_URL ?? 'http://127.0.0.1:9465')
      .option('--json', 'print the raw JSON answer'),
    [
      ['ADMIN_TOKEN', "the evaluator's admin token (required)"],
      ['EVALUATOR_ADMIN_URL', 'default for --url'],
      ...COLOR_ENV,
    ],
  ).action(async (customerId: string, opts: { url: string; json?: boolean }) => {
      const token = process.env.ADMIN_TOKEN;
      if (!token) {
        console.error('explain: set ADMIN_TOKEN to the evaluator\'s admin token');
        process.exit(2);
      }
      let res: Response;
      try {
        res = await fetch(`${opts.url.replace(/\/$/, '')}/admin/customers/${encodeURIComponent(customerId)}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        console.error(`explain: evaluator admin endpoint ${opts.url} is not reachable: ${(e as Error).message}`);
        process.exit(1);
      }
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) {
        console.error(`explain: ${res.status} ${JSON.stringify(body)}`);
        process.exit(res.status === 404 ? 3 : 1);
      }
      if (opts.json) {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      console.log(formatExplanation(customerId, body as unknown as ExplainAnswer, { color: colorOutput() }));
    });
}
