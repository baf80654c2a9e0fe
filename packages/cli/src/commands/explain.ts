import type { Command } from 'commander';

/**
 * `labelstream explain <customerId>`: asks the evaluator's admin endpoint why a customer has
 * the labels it has (the evaluator owns the state and the rules, so the answer is the one
 * it acts on).
 */
export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description("show a customer's labels, feature values, which conditions hold and the last changes with their causes")
    .argument('<customerId>')
    .option('--url <url>', 'evaluator admin base URL', process.env.EVALUATOR_ADMIN_URL ?? 'http://127.0.0.1:9465')
    .option('--json', 'print the raw JSON answer')
    .action(async (customerId: string, opts: { url: string; json?: boolean }) => {
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
      console.log(formatExplanation(customerId, body));
    });
}

/** Renders the evaluator's answer for a terminal. */
export function formatExplanation(customerId: string, body: Record<string, unknown>): string {
  const lines = [`customer ${customerId} (partition ${String(body.partition)}, state version ${String(body.version)})`];
  const ex = body.explanation as { labels?: Array<Record<string, unknown>>; features?: Record<string, unknown> } | undefined;
  if (ex?.features) {
    lines.push('features:');
    for (const [k, v] of Object.entries(ex.features)) lines.push(`  ${k.padEnd(28)} ${JSON.stringify(v)}`);
  }
  if (ex?.labels) {
    lines.push('labels:');
    for (const l of ex.labels) lines.push(`  ${String(l.held ? '●' : '○')} ${String(l.name).padEnd(24)} ${JSON.stringify(Object.fromEntries(Object.entries(l).filter(([k]) => !['name', 'held'].includes(k))))}`);
  }
  const recent = body.recentDecisions as unknown[] | undefined;
  if (recent?.length) {
    lines.push('recent decisions (newest first):');
    for (const r of recent) lines.push(`  ${JSON.stringify(r)}`);
  }
  return lines.join('\n');
}
