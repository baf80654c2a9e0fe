/**
 * The rules file's structure as a zod schema: shapes, enums and required keys. Semantics
 * that need the whole file (durations, expressions, cross-references) are checked in
 * `compile.ts`, which has source positions for its messages.
 */
import { z } from 'zod';
import { FEATURE_EVENTS } from './event-fields';

export const AGGS = ['count', 'sum', 'min', 'max', 'last', 'distinct'] as const;
export type Agg = (typeof AGGS)[number];

export const CATEGORIES = ['value', 'behaviour', 'lifecycle', 'satisfaction', 'custom'] as const;
export type LabelCategory = (typeof CATEGORIES)[number];

/** Names of features, labels and groups: snake_case, starting with a letter. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_EXPRESSION_CHARS = 2000;

const expression = z.string().min(1).max(MAX_EXPRESSION_CHARS);
const duration = z.string().min(1);

export const featureSchema = z.strictObject({
  event: z.enum(FEATURE_EVENTS as [string, ...string[]], { error: `event must be one of ${FEATURE_EVENTS.join(', ')}` }),
  agg: z.enum(AGGS, { error: `agg must be one of ${AGGS.join(', ')}` }),
  field: z.string().min(1).optional(),
  window: duration.optional(),
  bucket: duration.optional(),
  where: expression.optional(),
  description: z.string().optional(),
});

export const labelSchema = z.strictObject({
  category: z.enum(CATEGORIES, { error: `category must be one of ${CATEGORIES.join(', ')}` }),
  description: z.string().min(1, 'description must not be empty'),
  when: expression.optional(),
  enter: expression.optional(),
  exit: expression.optional(),
  minDwell: duration.optional(),
  whileWarming: z.enum(['decide', 'hold'], { error: 'whileWarming must be decide or hold' }).optional(),
});

export const groupSchema = z.strictObject({
  exclusive: z.boolean().default(true),
  priority: z.array(z.string()).min(1, 'priority must list at least one label'),
  description: z.string().optional(),
});

const lintSchema = z.strictObject({
  maxLabels: z.number().int().positive().optional(),
  maxLabelsPerCategory: z.number().int().positive().optional(),
});

const entries = z.record(z.string(), z.unknown());

/**
 * Top level only: features, labels and groups are validated entry by entry (with the
 * schemas above), so one bad entry does not hide the problems of the others.
 */
export const rulesFileSchema = z.strictObject({
  version: z.union([z.string().min(1), z.number()]).transform(String),
  allowedLateness: duration.default('1h'),
  features: entries,
  labels: entries,
  groups: entries.default({}),
  lint: lintSchema.optional(),
});

export type RulesFile = z.infer<typeof rulesFileSchema>;
export type RawFeature = z.infer<typeof featureSchema>;
export type RawLabel = z.infer<typeof labelSchema>;
export type RawGroup = z.infer<typeof groupSchema>;
