import type { IngestConfig } from '@labelstream/config';
import { compileIngestPolicy, type IngestPolicy } from '@labelstream/ingest-core';

/**
 * The ingest-core policy for a loaded configuration. Both sides read an FX rate the same
 * way — 1 unit of the currency = `rate` units of the base (config's demo table, base EUR:
 * `USD: 0.92`) — so the table is passed through unchanged. Options the configuration does
 * not expose (maxItems, maxAmountMinor, knownCurrencies, deriveMissingEventId,
 * requireItemsTotalMatch) keep ingest-core's defaults. Throws InvalidIngestPolicyError
 * (listing every problem) when the rates and base currency do not fit together.
 */
export function policyFromConfig(
  config: Pick<IngestConfig, 'maxMessageBytes' | 'maxLatenessMs' | 'maxFutureSkewMs' | 'customerIdPattern' | 'baseCurrency' | 'fxRatesToBase'> & {
    decodeLimits?: IngestConfig['decodeLimits'];
    eventIdHashKey?: IngestConfig['eventIdHashKey'];
  },
): IngestPolicy {
  return compileIngestPolicy({
    maxMessageBytes: config.maxMessageBytes,
    maxLatenessMs: config.maxLatenessMs,
    maxFutureSkewMs: config.maxFutureSkewMs,
    customerIdPattern: config.customerIdPattern,
    baseCurrency: config.baseCurrency,
    fxRatesToBase: config.fxRatesToBase,
    ...(config.decodeLimits ? { maxJsonDepth: config.decodeLimits.maxDepth } : {}),
    ...(config.eventIdHashKey ? { eventIdHashKey: config.eventIdHashKey } : {}),
  });
}
