import type { Command } from 'commander';
import { labelEventType, type LabelEvent } from '@labelstream/contracts';
import { kafkaClients, labelEventsSourceOptions, type KafkaSourceOptions } from './kafka-source';
import { COLOR_ENV, colorOutput, KAFKA_SOURCE_ENV, withEnvironment } from './environment';
import { parsePrometheusText, summarise, type Scrape } from './metrics-text';

const C = { green: '\x1b[32m', red: '\x1b[31m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m', cyan: '\x1b[36m' };

function fmtValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return JSON.stringify(v);
}

/** One line per label change: time, customer, +label / −label, the deciding values. */
export function formatLabelEvent(e: LabelEvent, color = true): string {
  const c = color ? C : { green: '', red: '', dim: '', bold: '', reset: '', cyan: '' };
  const sign = e.type === 'LABEL_ASSIGNED' ? `${c.green}+` : `${c.red}−`;
  const feats = Object.entries(e.features)
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(' ');
  const time = new Date(e.effectiveAt).toISOString().slice(11, 19);
  const cause = e.causeEventId ? '' : ` ${c.cyan}⏱ time-based${c.reset}`;
  return `${c.dim}${time}${c.reset} ${e.customerId.padEnd(10)} ${sign}${e.label}${c.reset} ${c.dim}[${e.category}] ${feats}${c.reset}${cause}`;
}

/**
 * `labelstream watch`: prints label changes as they are published and, periodically, a
 * summary scraped from the services' /metrics (events/s, label populations, DLQ counts).
 */
export function registerWatch(program: Command): void {
  withEnvironment(
    labelEventsSourceOptions(program.command('watch').description('follow crm.label-events.v1 and print a periodic summary from the services\' metrics'))
      .option('--metrics <urls>', 'comma-separated /metrics URLs of ingest, evaluator, publisher', 'http://127.0.0.1:9464/metrics,http://127.0.0.1:9465/metrics,http://127.0.0.1:9466/metrics')
      .option('--summary-every <s>', 'seconds between summaries', '10')
      .option('--max-lines-per-second <n>', 'print at most this many changes per second (the rest are counted)', '25'),
    [...KAFKA_SOURCE_ENV, ...COLOR_ENV],
  ).action(async (opts: KafkaSourceOptions & { metrics: string; summaryEvery: string; maxLinesPerSecond: string }) => {
      const { kafka, registry } = kafkaClients(opts, 'labelstream-watch');
      const consumer = kafka.consumer({ groupId: `labelstream-watch-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: false });
      const limit = Number(opts.maxLinesPerSecond);
      const color = colorOutput();
      const c = color ? C : { green: '', red: '', dim: '', bold: '', reset: '', cyan: '' };
      let windowStart = Date.now();
      let printed = 0;
      let suppressed = 0;
      await consumer.run({
        eachMessage: async ({ message }) => {
          const e = await registry.decode<LabelEvent>(message.value, labelEventType);
          if (Date.now() - windowStart > 1000) {
            if (suppressed) console.log(`${c.dim}… ${suppressed} more changes${c.reset}`);
            windowStart = Date.now();
            printed = 0;
            suppressed = 0;
          }
          if (printed++ < limit) console.log(formatLabelEvent(e, color));
          else suppressed++;
        },
      });
      const urls = opts.metrics.split(',').filter(Boolean);
      let previous: Scrape | undefined;
      const timer = setInterval(async () => {
        const texts = await Promise.all(urls.map((u) => fetch(u, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => '')));
        const scrape: Scrape = { at: Date.now(), samples: texts.flatMap((t) => parsePrometheusText(t)) };
        console.log(`${c.bold}${summarise(scrape, previous)}${c.reset}`);
        previous = scrape;
      }, Number(opts.summaryEvery) * 1000);
      const stop = async () => {
        clearInterval(timer);
        await consumer.disconnect().catch(() => undefined);
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}
