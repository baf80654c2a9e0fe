import type { CustomerEvent, EventType } from '@labelstream/contracts';
import type { EventView } from '@labelstream/rules';
import { EngineError } from './errors';

/** An attribute of the flat event view. */
export type EventAttr = number | string | boolean | null | string[];

/**
 * One event as the engine consumes it: identity, type, event time and the flat
 * attributes features and filters read (see @labelstream/rules `EVENT_FIELDS`).
 */
export interface EngineEvent {
  readonly eventId: string;
  readonly customerId: string;
  readonly eventType: EventType;
  /** Event time, epoch millis. */
  readonly occurredAt: number;
  /** Where the event came from, for tracing only (`topic/partition/offset` of the raw message). */
  readonly offset?: string;
  readonly attrs: Readonly<Record<string, EventAttr>>;
}

/**
 * Maps a canonical CustomerEvent to the engine's flat event.
 * Purchase: amounts, currency, `itemCount` (line items), `quantity` (sum of quantities),
 * `categories` and `skus` (distinct, sorted), `channel`. Email click: campaign, email and
 * link ids. Support ticket: id, status, priority, `satisfactionScore` (int or null).
 * @throws EngineError `EVENT_PAYLOAD_MISSING` when the payload for `eventType` is absent.
 */
export function toEngineEvent(e: CustomerEvent): EngineEvent {
  const base = {
    eventId: e.eventId,
    customerId: e.customerId,
    eventType: e.eventType,
    occurredAt: e.occurredAt,
    offset: `${e.source.topic}/${e.source.partition}/${e.source.offset}`,
  };
  const missing = (): never => {
    throw new EngineError('EVENT_PAYLOAD_MISSING', `event ${e.eventId} of type ${e.eventType} has no ${e.eventType.toLowerCase()} payload`, {
      eventId: e.eventId,
      customerId: e.customerId,
    });
  };
  switch (e.eventType) {
    case 'PURCHASE': {
      const p = e.purchase ?? missing();
      return {
        ...base,
        attrs: {
          amountMinor: p.amountMinor,
          amountMinorBase: p.amountMinorBase,
          currency: p.currency,
          itemCount: p.items.length,
          quantity: p.items.reduce((n, i) => n + i.quantity, 0),
          categories: sortedDistinct(p.items.map((i) => i.category)),
          skus: sortedDistinct(p.items.map((i) => i.sku)),
          channel: p.channel,
        },
      };
    }
    case 'EMAIL_CLICK': {
      const c = e.emailClick ?? missing();
      return { ...base, attrs: { campaignId: c.campaignId, emailId: c.emailId, linkId: c.linkId } };
    }
    case 'SUPPORT_TICKET': {
      const t = e.supportTicket ?? missing();
      return {
        ...base,
        attrs: { ticketId: t.ticketId, status: t.status, priority: t.priority, satisfactionScore: t.satisfactionScore },
      };
    }
  }
}

/** The view features and filters see: the common fields plus the attributes. */
export function eventView(e: EngineEvent): EventView {
  return { ...e.attrs, eventType: e.eventType, occurredAt: e.occurredAt };
}

function sortedDistinct(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
