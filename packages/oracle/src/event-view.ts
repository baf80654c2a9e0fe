import type { CustomerEvent } from '@labelstream/contracts';
import type { EventView } from '@labelstream/rules';
import { OracleError } from './errors';

/**
 * The flat view features and `where` filters read, built from the canonical event by the
 * field table in @labelstream/rules (`EVENT_FIELDS`) — written here from that contract,
 * not shared with the engine, so a mapping bug in either shows up as a difference.
 *
 * Purchase: `itemCount` = number of lines, `quantity` = sum of line quantities,
 * `categories` / `skus` = the distinct values (sorted). Support ticket: `satisfactionScore`
 * may be null. Every view also has `eventType` and `occurredAt`.
 * @throws OracleError `EVENT_PAYLOAD_MISSING` when the payload of `eventType` is absent.
 */
export function viewOf(e: CustomerEvent): EventView {
  const common = { eventType: e.eventType, occurredAt: e.occurredAt };
  if (e.eventType === 'PURCHASE' && e.purchase) {
    const p = e.purchase;
    let quantity = 0;
    for (const item of p.items) quantity += item.quantity;
    return {
      ...common,
      amountMinor: p.amountMinor,
      amountMinorBase: p.amountMinorBase,
      currency: p.currency,
      itemCount: p.items.length,
      quantity,
      categories: distinctSorted(p.items.map((i) => i.category)),
      skus: distinctSorted(p.items.map((i) => i.sku)),
      channel: p.channel,
    };
  }
  if (e.eventType === 'EMAIL_CLICK' && e.emailClick) {
    const c = e.emailClick;
    return { ...common, campaignId: c.campaignId, emailId: c.emailId, linkId: c.linkId };
  }
  if (e.eventType === 'SUPPORT_TICKET' && e.supportTicket) {
    const t = e.supportTicket;
    return { ...common, ticketId: t.ticketId, status: t.status, priority: t.priority, satisfactionScore: t.satisfactionScore };
  }
  throw new OracleError('EVENT_PAYLOAD_MISSING', `event ${e.eventId} of type ${e.eventType} has no payload for its type`, {
    eventId: e.eventId,
    customerId: e.customerId,
  });
}

function distinctSorted(values: readonly string[]): string[] {
  return Array.from(new Set(values)).sort();
}
