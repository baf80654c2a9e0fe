/**
 * @labelstream/generator — a deterministic synthetic storefront: realistic customer
 * activity (purchases, email clicks, support tickets) as raw JSON messages for the three
 * `storefront.*` topics, plus a catalogue of malformed messages. Pure: no Kafka, no clock;
 * the caller passes time in.
 *
 * @example
 * import { createStorefront } from '@labelstream/generator';
 * const shop = createStorefront({ seed: 1, startAt: Date.now() });
 * const { topic, key, value } = shop.next(Date.now());
 *
 * @packageDocumentation
 */
export { createStorefront, type Storefront } from './storefront';
export {
  compileStorefrontOptions,
  DEFAULT_STOREFRONT_TOPICS,
  STOREFRONT_DEFAULTS,
  topicFor,
  type CompiledStorefrontOptions,
  type EventMix,
  type StorefrontOptions,
} from './options';
export {
  allMalformed,
  MALFORMATIONS,
  OVERSIZE_BYTES,
  type AllMalformedOptions,
  type Malformation,
  type MalformationContext,
  type MalformedSample,
} from './malformations';
export { customerIdFor, type CustomerProfile } from './population';
export { PERSONAS, type Persona, type PersonaName } from './personas';
export { CATEGORIES, CATEGORY_NAMES, CURRENCIES, type Category } from './catalog';
export { createRng, type Rng } from './prng';
export { GeneratorError, InvalidGeneratorOptionError } from './errors';
export {
  EVENT_KINDS,
  type EventKind,
  type GeneratedMessage,
  type RawChannel,
  type RawEmailClick,
  type RawEvent,
  type RawLineItem,
  type RawPurchase,
  type RawSupportTicket,
  type RawTimestamp,
  type StorefrontTopics,
} from './types';
