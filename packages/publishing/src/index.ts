/**
 * @labelstream/publishing — the publisher's pure core: decisions to public records,
 * stable event ids, sequence dedupe, webhook signing and retry policy, and the webhook
 * destinations file. No I/O.
 *
 * @example
 * import { toPublicRecords, classifySeq } from '@labelstream/publishing';
 * if (classifySeq(lastSeq, decision.seq) !== 'duplicate') {
 *   const { labelEvents, customerLabels, headers } = toPublicRecords(decision, { publishedAt: Date.now() });
 * }
 *
 * @packageDocumentation
 */
export { eventIdFor } from './event-id';
export { PUBLIC_HEADERS, publicHeaders, readPublishedPosition, type PublishedPosition, type RawHeaders } from './headers';
export { UNKNOWN_CATEGORY, causeTime, eventTypeFor, toPublicRecords, type PublicRecordOptions, type PublicRecords } from './map-decision';
export { classifySeq, type SeqVerdict } from './sequence';
export {
  DEFAULT_TOLERANCE_SEC,
  WEBHOOK_HEADERS,
  signPayload,
  signatureHeaders,
  verifySignature,
  type VerifyFailure,
  type VerifyOptions,
} from './signing';
export { attemptOutcome, classifyStatus, matchesLabelFilter, retryAfterMs, webhookBackoffMs, type AttemptVerdict } from './webhook-policy';
export {
  compileWebhookDestinations,
  parseWebhookDestinations,
  webhookDeadLetterTopic,
  webhookGroupId,
  type WebhookDestination,
} from './webhook-config';
export { PublishingError, WebhookConfigError, type WebhookConfigIssue } from './errors';
export { WEBHOOK_DLQ_HEADERS, WEBHOOK_DLQ_REASONS } from './webhook-dlq';
