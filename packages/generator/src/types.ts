/** The three kinds of raw storefront activity. */
export type EventKind = 'purchase' | 'email-click' | 'support-ticket';

/** All event kinds, in a fixed order (useful for iteration in tests and reports). */
export const EVENT_KINDS: readonly EventKind[] = Object.freeze(['purchase', 'email-click', 'support-ticket']);

/** Raw timestamps come as ISO-8601 UTC strings or as epoch milliseconds, as real producers differ. */
export type RawTimestamp = string | number;

/** Sales channel, lower snake case as platform teams send it. */
export type RawChannel = 'web' | 'mobile_app' | 'store' | 'marketplace';

/** One order line in a raw purchase. */
export interface RawLineItem {
  sku: string;
  category: string;
  quantity: number;
  /** Price of one unit in integer minor units of the order currency. */
  unitPriceMinor: number;
}

/** Value of a `storefront.purchases` message. `amountMinor` = Σ quantity × unitPriceMinor. */
export interface RawPurchase {
  eventId: string;
  customerId: string;
  occurredAt: RawTimestamp;
  orderId: string;
  amountMinor: number;
  /** ISO 4217 code; JPY has no minor digits, so its minor unit is the yen itself. */
  currency: string;
  items: RawLineItem[];
  channel: RawChannel;
}

/**
 * Value of a `storefront.email-clicks` message. `email` and `customerName` are personal
 * data that some upstream systems leak; ingest must drop them (the generator adds them
 * to a few percent of clicks so tests can prove they never reach outputs or logs).
 */
export interface RawEmailClick {
  eventId: string;
  customerId: string;
  occurredAt: RawTimestamp;
  campaignId: string;
  emailId: string;
  /** Clicked link with tracking query string (`utm_*`, `token`), which ingest strips. */
  url: string;
  email?: string;
  customerName?: string;
}

/** Value of a `storefront.support-tickets` message. */
export interface RawSupportTicket {
  eventId: string;
  customerId: string;
  occurredAt: RawTimestamp;
  ticketId: string;
  status: 'opened' | 'resolved';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  /** CSAT 1–5, only on resolved tickets whose customer answered the survey. */
  satisfactionScore?: number;
}

/** Any valid raw event. */
export type RawEvent = RawPurchase | RawEmailClick | RawSupportTicket;

/** Names of the three raw topics. */
export interface StorefrontTopics {
  purchases: string;
  emailClicks: string;
  supportTickets: string;
}

/** One message ready to produce to Kafka. */
export interface GeneratedMessage {
  topic: string;
  kind: EventKind;
  /** Record key: the order/email/ticket id (platform teams rarely key by customer), or null. */
  key: string | null;
  /**
   * Record value: UTF-8 JSON for valid events; the bad bytes for malformed ones. (Tombstones,
   * i.e. null values, are only in the {@link allMalformed} corpus, never in the stream.)
   */
  value: Buffer;
  /** The customer a valid event belongs to; absent on malformed messages. */
  customerId?: string;
  /** The event id of a valid event (for latency tracking); absent on malformed messages. */
  eventId?: string;
  /** Name of the {@link Malformation} applied; absent on valid messages. */
  malformed?: string;
}
