/**
 * The publisher service's factories, for in-process integration tests. The service itself
 * runs from main.ts.
 */
export { createPublisher } from './publisher';
export type { Publisher, PublisherOptions, PublisherTopics } from './publisher';
export { createWebhookDispatcher } from './webhook-dispatcher';
export type { WebhookDispatcher, WebhookDispatcherOptions } from './webhook-dispatcher';
export { deliver, attemptOnce } from './webhook-delivery';
export type { DeliveryEnv, DeliveryPolicy, DeliveryRequest, DeliveryResult, AttemptReport } from './webhook-delivery';
export { CoPartitioningError, PartitionInactiveError, PublisherError, UnreadableTailError } from './errors';
