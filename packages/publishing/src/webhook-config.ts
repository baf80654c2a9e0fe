import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WebhookConfigError } from './errors';

/** A webhook destination with every default filled in. */
export interface WebhookDestination {
  /** Lower-case id; names the consumer group and the dead-letter topic. */
  name: string;
  /** http(s) URL the JSON payloads are POSTed to. */
  url: string;
  /** Name of the environment variable holding the HMAC secret (the secret itself is never in the file). */
  secretEnv: string;
  /** Label filter: exact names or prefixes ending in `*`; all labels when absent. */
  labels?: string[];
  /** Attempts before dead-lettering (default 8). */
  maxAttempts: number;
  /** Partitions delivered in parallel; order is kept within a partition (default 4). */
  concurrency: number;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs: number;
  /** First retry waits up to this long (default 500 ms), doubling… */
  initialBackoffMs: number;
  /** …up to this cap (default 60000 ms). */
  maxBackoffMs: number;
  /** Where a brand-new destination starts reading: the retained history (`earliest`, default) or only new events (`latest`). */
  startFrom: 'earliest' | 'latest';
  /** Dead-letter topic (default `labels.webhook-dlq.<name>.v1`). */
  deadLetterTopic: string;
  /** Consumer group of this destination: `labelstream-webhook-<name>`. */
  groupId: string;
}

/** The dead-letter topic of a destination: `labels.webhook-dlq.<name>.v1`. */
export function webhookDeadLetterTopic(name: string): string {
  return `labels.webhook-dlq.${name}.v1`;
}

/** The consumer group of a destination: each has its own, so one slow receiver delays no other output. */
export function webhookGroupId(name: string): string {
  return `labelstream-webhook-${name}`;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const destinationSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and - (it names a topic and a consumer group)'),
    url: z.string().refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'https:' || u.protocol === 'http:';
      } catch {
        return false;
      }
    }, 'must be an http:// or https:// URL'),
    secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable (upper case), not hold the secret'),
    labels: z.array(z.string().min(1)).optional(),
    maxAttempts: int(1, 100).default(8),
    concurrency: int(1, 64).default(4),
    timeoutMs: int(100, 120_000).default(5000),
    initialBackoffMs: int(1, 3_600_000).default(500),
    maxBackoffMs: int(1, 3_600_000).default(60_000),
    startFrom: z.enum(['earliest', 'latest']).default('earliest'),
    deadLetterTopic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a valid topic name').optional(),
  })
  .strict()
  .refine((d) => d.maxBackoffMs >= d.initialBackoffMs, { message: 'maxBackoffMs must be >= initialBackoffMs', path: ['maxBackoffMs'] });

const fileSchema = z.union([z.array(destinationSchema), z.object({ destinations: z.array(destinationSchema) }).strict()]);

/**
 * Validates webhook destinations (already parsed) and fills defaults; throws a
 * {@link WebhookConfigError} naming every problem, including duplicate names.
 */
export function compileWebhookDestinations(input: unknown, source = 'webhooks'): WebhookDestination[] {
  const r = fileSchema.safeParse(input ?? []);
  if (!r.success) {
    throw new WebhookConfigError(
      r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''), message: i.message })),
      { source },
    );
  }
  const list = Array.isArray(r.data) ? r.data : r.data.destinations;
  const seen = new Set<string>();
  const issues: Array<{ path: string; message: string }> = [];
  list.forEach((d, i) => {
    if (seen.has(d.name)) issues.push({ path: `[${i}].name`, message: `duplicate destination name "${d.name}"` });
    seen.add(d.name);
  });
  if (issues.length) throw new WebhookConfigError(issues, { source });
  return list.map((d) => ({
    ...d,
    deadLetterTopic: d.deadLetterTopic ?? webhookDeadLetterTopic(d.name),
    groupId: webhookGroupId(d.name),
  }));
}

/**
 * Parses a destinations file's text (YAML, so JSON too): a list of destinations, or
 * `{ destinations: [...] }`. An empty file means no webhooks.
 */
export function parseWebhookDestinations(text: string, source = 'webhooks'): WebhookDestination[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new WebhookConfigError([{ path: '', message: `not valid YAML/JSON: ${(err as Error).message}` }], { source });
  }
  return compileWebhookDestinations(doc, source);
}
