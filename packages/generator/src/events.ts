import type { Campaign } from './campaigns';
import { CATEGORIES, CATEGORY_NAMES, CURRENCIES, pickProduct, priceIn, type Catalog, type Category } from './catalog';
import type { CustomerProfile } from './population';
import { hash32, type Rng } from './prng';
import type { RawEmailClick, RawLineItem, RawPurchase, RawSupportTicket, RawTimestamp } from './types';

/** What the event builders need; they read it but change no storefront state. */
export interface BuildContext {
  rng: Rng;
  catalog: Catalog;
  seed: number;
  personalDataRatio: number;
}

/** Most orders are in the customer's home currency; a few are cross-border. */
const FOREIGN_CURRENCY_RATIO = 0.03;
const MAX_LINES = 12;

function pickCategory(customer: CustomerProfile, rng: Rng, focus: Category | null = null): Category {
  if (focus && rng.chance(0.5)) return focus;
  const bias = customer.persona.categoryBias;
  return rng.weighted(CATEGORY_NAMES.map((c) => [c, CATEGORIES[c].weight * (bias[c] ?? 1)] as const));
}

/** A purchase: realistic basket size, prices from the catalogue, amount = Σ lines. */
export function buildPurchase(ctx: BuildContext, customer: CustomerProfile, occurredAt: RawTimestamp): RawPurchase {
  const { rng, catalog } = ctx;
  const persona = customer.persona;
  const currency = rng.chance(FOREIGN_CURRENCY_RATIO) ? rng.pick(Object.keys(CURRENCIES)) : customer.currency;
  // Geometric number of lines with the persona's mean.
  let lines = 1;
  while (lines < MAX_LINES && rng.chance(1 - 1 / persona.meanLines)) lines++;
  const bySku = new Map<string, RawLineItem>();
  for (let i = 0; i < lines; i++) {
    const category = pickCategory(customer, rng);
    const product = pickProduct(catalog, category, persona.priceTilt, rng);
    const maxQ = CATEGORIES[category].maxQuantity;
    const quantity = rng.chance(0.8) ? 1 : rng.int(2, maxQ);
    const existing = bySku.get(product.sku);
    if (existing) existing.quantity += quantity;
    else bySku.set(product.sku, { sku: product.sku, category, quantity, unitPriceMinor: priceIn(product.eurCents, currency) });
  }
  const items = [...bySku.values()];
  return {
    eventId: rng.uuid(),
    customerId: customer.customerId,
    occurredAt,
    orderId: `o-${rng.base36(10)}`,
    amountMinor: items.reduce((sum, it) => sum + it.quantity * it.unitPriceMinor, 0),
    currency,
    items,
    channel: rng.weighted(persona.channels),
  };
}

function asciiLower(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * An email click. `emailId` is derived from (seed, customer, campaign), so repeat clicks
 * on one email share it, as they do in real ESP exports.
 */
export function buildEmailClick(ctx: BuildContext, customer: CustomerProfile, campaign: Campaign, occurredAt: RawTimestamp): RawEmailClick {
  const { rng, catalog } = ctx;
  const key = `${customer.customerId}|${campaign.campaignId}`;
  const emailId = `em-${hash32(key, ctx.seed).toString(36).padStart(7, '0')}${hash32(key, ctx.seed ^ 0x5bd1e995).toString(36).padStart(7, '0')}`;
  const category = pickCategory(customer, rng, campaign.focus);
  const path = rng.weighted<string>([
    [`/c/${category}`, 4],
    [`/p/${pickProduct(catalog, category, customer.persona.priceTilt, rng).sku}`, 4],
    ['/sale', 1],
    ['/', 1],
  ]);
  const url = `https://shop.example${path}?utm_source=newsletter&utm_medium=email&utm_campaign=${campaign.slug}&token=${rng.base36(16)}`;
  const click: RawEmailClick = { eventId: rng.uuid(), customerId: customer.customerId, occurredAt, campaignId: campaign.campaignId, emailId, url };
  if (rng.chance(ctx.personalDataRatio)) {
    // Personal data some ESP exports leak; always example.* domains (RFC 2606).
    click.email = `${asciiLower(customer.firstName)}.${asciiLower(customer.lastName)}@example.com`;
    if (rng.chance(0.7)) click.customerName = `${customer.firstName} ${customer.lastName}`;
  }
  return click;
}

/** A newly opened support ticket. */
export function buildTicketOpened(ctx: BuildContext, customer: CustomerProfile, occurredAt: RawTimestamp): RawSupportTicket {
  const { rng } = ctx;
  return {
    eventId: rng.uuid(),
    customerId: customer.customerId,
    occurredAt,
    ticketId: `t-${rng.base36(9)}`,
    status: 'opened',
    priority: rng.weighted(customer.persona.priorities),
  };
}

/** The resolution of an open ticket; some customers answer the CSAT survey. */
export function buildTicketResolved(
  ctx: BuildContext,
  customer: CustomerProfile,
  ticket: { ticketId: string; priority: RawSupportTicket['priority'] },
  occurredAt: RawTimestamp,
): RawSupportTicket {
  const { rng } = ctx;
  const resolved: RawSupportTicket = {
    eventId: rng.uuid(),
    customerId: customer.customerId,
    occurredAt,
    ticketId: ticket.ticketId,
    status: 'resolved',
    priority: ticket.priority,
  };
  if (rng.chance(customer.persona.csatResponseRate)) resolved.satisfactionScore = rng.weighted(customer.persona.csat);
  return resolved;
}
