import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DURATION_GRAMMAR, parseDuration } from '@labelstream/duration';
import { readRulesFile } from '@labelstream/rules';
import { buildReport, type ReportRules } from '../report/model';
import { renderReportHtml } from '../report/html';
import { readLabelEvents, type ReadProgress } from '../report/read-label-events';
import { kafkaClients, labelEventsSourceOptions, type KafkaSourceOptions } from './kafka-source';
import { KAFKA_SOURCE_ENV, withEnvironment } from './environment';

/** `--since`: a duration back from now (`7d`, `12h`) or an ISO time. */
export function parseSince(text: string, now: number): number {
  const d = parseDuration(text);
  if (d !== undefined) return now - d;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`report: --since ${JSON.stringify(text)} is neither a duration (7d, 12h, 30m) nor an ISO time (2026-12-01T00:00Z)`);
  return t;
}

function progressLine(p: ReadProgress): string {
  const share = p.total ? Math.min(100, Math.floor((p.read / p.total) * 100)) : 100;
  return `reading label events: ${p.read.toLocaleString('en-US')} of ~${p.total.toLocaleString('en-US')} (${share}%), ${p.partitionsDone}/${p.partitions} partitions at their end`;
}

interface ReportCliOptions extends KafkaSourceOptions {
  since?: string;
  out: string;
  flapWindow: string;
  rules: string;
}

/**
 * `labelstream report`: reads the label-events history up to where it ends at the start,
 * and writes one self-contained HTML page about the labels' health.
 */
export function registerReport(program: Command): void {
  withEnvironment(
    labelEventsSourceOptions(
      program
        .command('report')
        .description('read the label-events history and write one self-contained HTML page: populations over time, entries/exits, flapping, overlap, labels that never fire or fire for almost everyone, rules versions'),
    )
      .option('--since <duration|ISO>', 'start of the charts (7d, 12h or an ISO time); the current sets always come from the whole topic')
      .option('--out <file>', 'where to write the page', 'report.html')
      .option('--flap-window <duration>', 'an exit within this long of the entry counts as a flap', '24h')
      .option('--rules <file>', 'the rules file in force (for the per-category advice and labels that never fired)', process.env.RULES_FILE ?? 'rules/default.yaml'),
    [...KAFKA_SOURCE_ENV, ['RULES_FILE', 'default for --rules']],
    'Progress goes to stderr; the page is written to --out.',
  ).action(async (opts: ReportCliOptions) => {
      const now = Date.now();
      const flapWindowMs = parseDuration(opts.flapWindow);
      if (flapWindowMs === undefined || flapWindowMs === 0) throw new Error(`report: --flap-window ${JSON.stringify(opts.flapWindow)} must be a duration longer than zero: ${DURATION_GRAMMAR}`);
      const since = opts.since === undefined ? undefined : parseSince(opts.since, now);
      let rules: ReportRules | undefined;
      if (existsSync(opts.rules)) {
        const r = readRulesFile(opts.rules);
        rules = { source: opts.rules, version: r.version, labels: r.labels.map((l) => ({ name: l.name, category: l.category })) };
      } else {
        console.error(`report: rules file ${opts.rules} not found; the per-category advice is not checked (--rules)`);
      }
      const { kafka, registry } = kafkaClients(opts, 'labelstream-report');
      const tty = Boolean(process.stderr.isTTY);
      let lastLine = '';
      const events = await readLabelEvents(kafka, registry, opts.topic, {
        onProgress: (p) => {
          const line = progressLine(p);
          if (line === lastLine) return;
          lastLine = line;
          // On a terminal the line rewrites itself; in a log, one line per change.
          process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
        },
      });
      if (tty) process.stderr.write('\n');
      const model = buildReport(events, { now, ...(since !== undefined ? { since } : {}), flapWindowMs, ...(rules ? { rules } : {}), topic: opts.topic });
      const out = resolve(opts.out);
      writeFileSync(out, renderReportHtml(model));
      console.error(`report: ${model.events} label events, ${model.customers} customers, ${model.labels.length} labels, ${model.warnings.length + model.neverFired.length + model.almostEveryone.length} findings`);
      console.log(out);
    });
}
