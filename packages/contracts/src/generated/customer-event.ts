// GENERATED FROM schemas/customer-event.avsc — do not edit; run pnpm --filter @labelstream/contracts gen
import type { AvroRecordSchema } from '../avro-schema';

/** Canonical customer activity on labels.customer-events.v1 (key = customerId as UTF-8). Exactly one of purchase / emailClick / supportTicket is set, matching eventType. */
export interface CustomerEvent {
  /** Producer-assigned unique id; the evaluator de-duplicates on it. */
  eventId: string;
  customerId: string;
  eventType: EventType;
  /** Event time, UTC epoch millis. */
  occurredAt: number;
  /** When ingest accepted the event, UTC epoch millis. */
  ingestedAt: number;
  /** Where the raw message came from (for tracing and DLQ replay). */
  source: SourcePosition;
  purchase: Purchase | null;
  emailClick: EmailClick | null;
  supportTicket: SupportTicket | null;
}

/** Avro enum EventType. */
export type EventType = 'PURCHASE' | 'EMAIL_CLICK' | 'SUPPORT_TICKET';
/** Symbols of {@link EventType}, in schema order. */
export const EVENT_TYPE_SYMBOLS: readonly EventType[] = ['PURCHASE', 'EMAIL_CLICK', 'SUPPORT_TICKET'];

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface Purchase {
  orderId: string;
  /** Order total in integer minor units of currency (cents, pence; yen has none). */
  amountMinor: number;
  /** ISO 4217 alphabetic code, upper case. */
  currency: string;
  /** Order total converted to the deployment's base currency (minor units) with the rate table ingest was configured with. */
  amountMinorBase: number;
  items: LineItem[];
  channel: Channel;
}

export interface LineItem {
  sku: string;
  category: string;
  quantity: number;
  unitPriceMinor: number;
}

/** Avro enum Channel. */
export type Channel = 'WEB' | 'MOBILE_APP' | 'STORE' | 'MARKETPLACE' | 'OTHER';
/** Symbols of {@link Channel}, in schema order. Unknown symbols resolve to 'OTHER' (schema default). */
export const CHANNEL_SYMBOLS: readonly Channel[] = ['WEB', 'MOBILE_APP', 'STORE', 'MARKETPLACE', 'OTHER'];

export interface EmailClick {
  campaignId: string;
  /** Id of the email message sent (never the address). */
  emailId: string;
  /** Id or URL path of the clicked link, query string stripped. */
  linkId: string;
}

export interface SupportTicket {
  ticketId: string;
  status: TicketStatus;
  priority: TicketPriority;
  /** CSAT 1-5 when the customer rated the resolution. */
  satisfactionScore: number | null;
}

/** Avro enum TicketStatus. */
export type TicketStatus = 'OPENED' | 'RESOLVED';
/** Symbols of {@link TicketStatus}, in schema order. */
export const TICKET_STATUS_SYMBOLS: readonly TicketStatus[] = ['OPENED', 'RESOLVED'];

/** Avro enum TicketPriority. */
export type TicketPriority = 'LOW' | 'NORMAL' | 'HIGH' | 'URGENT';
/** Symbols of {@link TicketPriority}, in schema order. Unknown symbols resolve to 'NORMAL' (schema default). */
export const TICKET_PRIORITY_SYMBOLS: readonly TicketPriority[] = ['LOW', 'NORMAL', 'HIGH', 'URGENT'];

/** The Avro schema of schemas/customer-event.avsc (io.labelstream.events.v1.CustomerEvent), embedded at generation time. */
export const customerEventSchema: AvroRecordSchema = {
  "type": "record",
  "name": "CustomerEvent",
  "namespace": "io.labelstream.events.v1",
  "doc": "Canonical customer activity on labels.customer-events.v1 (key = customerId as UTF-8). Exactly one of purchase / emailClick / supportTicket is set, matching eventType.",
  "fields": [
    {
      "name": "eventId",
      "type": "string",
      "doc": "Producer-assigned unique id; the evaluator de-duplicates on it."
    },
    {
      "name": "customerId",
      "type": "string"
    },
    {
      "name": "eventType",
      "type": {
        "type": "enum",
        "name": "EventType",
        "symbols": [
          "PURCHASE",
          "EMAIL_CLICK",
          "SUPPORT_TICKET"
        ]
      }
    },
    {
      "name": "occurredAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Event time, UTC epoch millis."
    },
    {
      "name": "ingestedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "When ingest accepted the event, UTC epoch millis."
    },
    {
      "name": "source",
      "doc": "Where the raw message came from (for tracing and DLQ replay).",
      "type": {
        "type": "record",
        "name": "SourcePosition",
        "fields": [
          {
            "name": "topic",
            "type": "string"
          },
          {
            "name": "partition",
            "type": "int"
          },
          {
            "name": "offset",
            "type": "long"
          }
        ]
      }
    },
    {
      "name": "purchase",
      "default": null,
      "type": [
        "null",
        {
          "type": "record",
          "name": "Purchase",
          "fields": [
            {
              "name": "orderId",
              "type": "string"
            },
            {
              "name": "amountMinor",
              "type": "long",
              "doc": "Order total in integer minor units of currency (cents, pence; yen has none)."
            },
            {
              "name": "currency",
              "type": "string",
              "doc": "ISO 4217 alphabetic code, upper case."
            },
            {
              "name": "amountMinorBase",
              "type": "long",
              "doc": "Order total converted to the deployment's base currency (minor units) with the rate table ingest was configured with."
            },
            {
              "name": "items",
              "type": {
                "type": "array",
                "items": {
                  "type": "record",
                  "name": "LineItem",
                  "fields": [
                    {
                      "name": "sku",
                      "type": "string"
                    },
                    {
                      "name": "category",
                      "type": "string"
                    },
                    {
                      "name": "quantity",
                      "type": "int"
                    },
                    {
                      "name": "unitPriceMinor",
                      "type": "long"
                    }
                  ]
                }
              }
            },
            {
              "name": "channel",
              "type": {
                "type": "enum",
                "name": "Channel",
                "symbols": [
                  "WEB",
                  "MOBILE_APP",
                  "STORE",
                  "MARKETPLACE",
                  "OTHER"
                ],
                "default": "OTHER"
              }
            }
          ]
        }
      ]
    },
    {
      "name": "emailClick",
      "default": null,
      "type": [
        "null",
        {
          "type": "record",
          "name": "EmailClick",
          "fields": [
            {
              "name": "campaignId",
              "type": "string"
            },
            {
              "name": "emailId",
              "type": "string",
              "doc": "Id of the email message sent (never the address)."
            },
            {
              "name": "linkId",
              "type": "string",
              "doc": "Id or URL path of the clicked link, query string stripped."
            }
          ]
        }
      ]
    },
    {
      "name": "supportTicket",
      "default": null,
      "type": [
        "null",
        {
          "type": "record",
          "name": "SupportTicket",
          "fields": [
            {
              "name": "ticketId",
              "type": "string"
            },
            {
              "name": "status",
              "type": {
                "type": "enum",
                "name": "TicketStatus",
                "symbols": [
                  "OPENED",
                  "RESOLVED"
                ]
              }
            },
            {
              "name": "priority",
              "type": {
                "type": "enum",
                "name": "TicketPriority",
                "symbols": [
                  "LOW",
                  "NORMAL",
                  "HIGH",
                  "URGENT"
                ],
                "default": "NORMAL"
              }
            },
            {
              "name": "satisfactionScore",
              "type": [
                "null",
                "int"
              ],
              "default": null,
              "doc": "CSAT 1-5 when the customer rated the resolution."
            }
          ]
        }
      ]
    }
  ]
};
