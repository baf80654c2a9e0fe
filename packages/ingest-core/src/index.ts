/**
 * @labelstream/ingest-core — pure validation and normalisation of raw storefront messages
 * (JSON or registry-decoded Avro) into canonical `CustomerEvent`s, with stable reject
 * reasons for the DLQ. No I/O: the ingest service's Kafka and registry adapters call it.
 *
 * @example
 * const policy = compileIngestPolicy({ baseCurrency: 'EUR', fxRatesToBase: { USD: 0.92 } });
 * const early = checkRawEnvelope(msg, policy);
 * const result = early ?? (isConfluentFramed(msg.value!)
 *   ? normaliseDecoded(msg.kind, await registry.decode(msg.value!), msg, policy, Date.now())
 *   : normaliseJson(msg, policy, Date.now()));
 *
 * @packageDocumentation
 */
export { ISO_4217_MINOR_UNITS, minorUnitExponent } from './currencies';
export { IngestCoreError, InvalidIngestPolicyError, InvalidRawKindError, InvalidSourcePositionError, type PolicyIssue } from './errors';
export { isConfluentFramed, readConfluentSchemaId } from './framing';
export { sanitiseLink } from './links';
export { convertMinorUnits } from './money';
export {
  checkRawEnvelope,
  normaliseDecoded,
  normaliseJson,
  RAW_KINDS,
  rawKindsByTopic,
  type NormaliseResult,
  type RawKind,
  type RawMessage,
} from './normalise';
export { personalKindOf, PSEUDONYMOUS_ID_PREFIX, pseudonymousId, type PersonalKind } from './personal-id';
export {
  compileIngestPolicy,
  DEFAULT_CUSTOMER_ID_PATTERN,
  DEFAULT_INGEST_POLICY,
  type IngestPolicy,
  type IngestPolicyOptions,
} from './policy';
export { REJECT_REASONS, type RejectReason } from './reject-reasons';
export { makeRejection, type NormaliseRejection } from './rejection';
export { parseIsoDateTime } from './timestamps';
