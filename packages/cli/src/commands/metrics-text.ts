/** A parsed Prometheus sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  at: number;
  samples: Sample[];
}

/** Parses the Prometheus text exposition format (enough of it for our own metrics). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

function sum(s: Scrape | undefined, name: string, filter: (l: Record<string, string>) => boolean = () => true): number {
  return (s?.samples ?? []).filter((x) => x.name === name && filter(x.labels)).reduce((a, x) => a + x.value, 0);
}

/** One summary line: rates since the previous scrape, label populations, DLQ counts. */
export function summarise(now: Scrape, prev: Scrape | undefined): string {
  const secs = prev ? (now.at - prev.at) / 1000 : 0;
  const rate = (name: string, filter?: (l: Record<string, string>) => boolean) =>
    prev && secs > 0 ? ((sum(now, name, filter) - sum(prev, name, filter)) / secs).toFixed(0) : '–';
  const ingestIn = rate('labelstream_events_consumed_total', (l) => l.service === 'ingest');
  const evalIn = rate('labelstream_events_consumed_total', (l) => l.service === 'evaluator');
  const published = rate('labelstream_label_changes_total');
  const dlq = now.samples.filter((x) => x.name === 'labelstream_dlq_total' && x.value > 0);
  // One series per label and partition (each exported by the evaluator owning it): summed by label.
  const byLabel = new Map<string, number>();
  for (const x of now.samples) if (x.name === 'labelstream_label_population') byLabel.set(x.labels.label ?? '', (byLabel.get(x.labels.label ?? '') ?? 0) + x.value);
  const none = now.samples.some((x) => x.name === 'labelstream_unlabelled_customers') ? sum(now, 'labelstream_unlabelled_customers') : undefined;
  const pops = [...byLabel]
    .filter(([, n]) => n !== 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([l, n]) => `${l}=${n}`)
    .concat(none !== undefined ? [`(no label)=${none}`] : [])
    .join(' ');
  const p99 = now.samples.find((x) => x.name === 'labelstream_end_to_end_latency_seconds_count');
  return [
    `── summary ${new Date(now.at).toISOString().slice(11, 19)}: in ${ingestIn}/s · evaluated ${evalIn}/s · label changes ${published}/s`,
    `   populations: ${pops || '(none yet)'}`,
    `   DLQ: ${dlq.length ? dlq.map((x) => `${x.labels.reason}=${x.value}`).join(' ') : '0'}${p99 ? ` · label events published: ${p99.value}` : ''}`,
  ].join('\n');
}
