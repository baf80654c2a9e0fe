import { buildCatalog } from './catalog';
import { burstShares, nextCampaign, type Campaign } from './campaigns';
import { InvalidGeneratorOptionError } from './errors';
import { buildEmailClick, buildPurchase, buildTicketOpened, buildTicketResolved, type BuildContext } from './events';
import { MALFORMATIONS, validBase, type Malformation } from './malformations';
import { compileStorefrontOptions, topicFor, type CompiledStorefrontOptions, type StorefrontOptions } from './options';
import { buildPopulation, WeightedSampler, type CustomerProfile } from './population';
import { createRng } from './prng';
import { eventTime, formatTimestamp } from './timestamps';
import { EVENT_KINDS, type EventKind, type GeneratedMessage, type RawEvent, type RawSupportTicket } from './types';

/** A synthetic storefront: call `next(now)` for each message to produce. */
export interface Storefront {
  /** The compiled options (defaults filled in). */
  readonly options: Readonly<CompiledStorefrontOptions>;
  /** The simulated customers, in id order (for demos: "explain c-000417, a big spender"). */
  readonly population: readonly CustomerProfile[];
  /** Messages generated so far. */
  readonly generated: number;
  /**
   * The next message, with event time derived from `now` (epoch ms). Deterministic: the
   * same seed and the same sequence of `now` values give byte-identical messages.
   */
  next(now: number): GeneratedMessage;
}

/** Fraction of each campaign cycle that is the send burst. */
const BURST_FRACTION = 0.25;
/** Tickets follow purchases: most new tickets come from a recent buyer. */
const TICKET_FROM_RECENT_PURCHASE = 0.75;
const RECENT_PURCHASES = 256;
/** Cap on open tickets, so state stays bounded however long the run. */
const MAX_OPEN_TICKETS = 5000;
/** Share of messages sent without a key (some producers do not key at all). */
const NULL_KEY_RATIO = 0.1;
/** Rejection-sampling attempts before scanning for an active customer. */
const MAX_DRAWS = 64;

interface OpenTicket {
  ticketId: string;
  priority: RawSupportTicket['priority'];
  customer: number;
}

/**
 * Creates a deterministic storefront simulation.
 *
 * Events are chosen kind first (so the mix holds), then customer (Zipf activity × persona
 * affinity for that kind, skipping customers who have gone quiet). Email clicks come in
 * campaign bursts; tickets follow purchases; a `malformedRatio` of messages is corrupted
 * with an entry of {@link MALFORMATIONS}.
 *
 * @example
 * const shop = createStorefront({ seed: 7, startAt: Date.now() });
 * const msg = shop.next(Date.now()); // { topic, kind, key, value, customerId, eventId }
 */
export function createStorefront(options: StorefrontOptions): Storefront {
  const opts = compileStorefrontOptions(options);
  // Independent streams: the population does not change if event generation changes.
  const setupRng = createRng(opts.seed, 1);
  const rng = createRng(opts.seed, 2);
  const catalog = buildCatalog(setupRng);
  const population = buildPopulation(opts, setupRng);
  const ctx: BuildContext = { rng, catalog, seed: opts.seed, personalDataRatio: opts.personalDataRatio };

  const samplers = Object.fromEntries(
    EVENT_KINDS.map((kind) => [kind, new WeightedSampler(population.map((c) => c.activity * c.persona.affinity[kind]))]),
  ) as Record<EventKind, WeightedSampler>;
  const email = burstShares(opts.mix.emailClick, BURST_FRACTION);
  const rest = opts.mix.purchase + opts.mix.supportTicket;
  const burstEvents = Math.max(1, Math.round(opts.campaignCycleEvents * BURST_FRACTION));
  const streamMalformations: readonly Malformation[] = MALFORMATIONS.filter(
    (m) => m.inStream || (m.name === 'oversize' && opts.includeOversize),
  );

  let seq = 0;
  let campaign: Campaign | null = null;
  let previousCampaign: Campaign | null = null;
  let campaignCycle = -1;
  const recentBuyers: number[] = [];
  const openTickets: OpenTicket[] = [];

  const isActive = (i: number, now: number): boolean => {
    const quietAt = (population[i] as CustomerProfile).quietAt;
    return quietAt === null || now < quietAt;
  };

  /** A customer for `kind` who is still active at `now` (the population keeps at least one). */
  const drawCustomer = (kind: EventKind, now: number): number => {
    const sampler = samplers[kind];
    for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
      const i = sampler.sample(rng.float());
      if (isActive(i, now)) return i;
    }
    // Most activity has gone quiet: scan from a random start so the choice stays seeded.
    const start = rng.int(0, population.length - 1);
    for (let k = 0; k < population.length; k++) {
      const i = (start + k) % population.length;
      if (isActive(i, now)) return i;
    }
    return population.length - 1; // unreachable: buildPopulation keeps one customer active
  };

  const chooseKind = (): EventKind => {
    const inBurst = seq % opts.campaignCycleEvents < burstEvents;
    const emailShare = inBurst ? email.inBurst : email.outside;
    const u = rng.float();
    if (u < emailShare) return 'email-click';
    const other = rest > 0 ? ((u - emailShare) / (1 - emailShare)) * rest : 0;
    return other < opts.mix.purchase ? 'purchase' : 'support-ticket';
  };

  const currentCampaign = (now: number): Campaign => {
    const cycle = Math.floor(seq / opts.campaignCycleEvents);
    if (!campaign || cycle !== campaignCycle) {
      campaignCycle = cycle;
      previousCampaign = campaign;
      campaign = nextCampaign(now, previousCampaign, rng);
    }
    const inBurst = seq % opts.campaignCycleEvents < burstEvents;
    // Between bursts, some people still click last campaign's email.
    return !inBurst && previousCampaign && rng.chance(0.3) ? previousCampaign : campaign;
  };

  const ticketEvent = (now: number, at: string | number): RawSupportTicket => {
    // Resolve an open ticket half the time (always when the book is full), oldest first-ish.
    while (openTickets.length > 0 && (openTickets.length >= MAX_OPEN_TICKETS || rng.chance(0.5))) {
      const index = Math.floor(rng.float() ** 2 * openTickets.length);
      const [ticket] = openTickets.splice(index, 1) as [OpenTicket];
      // A quiet customer's ticket is closed elsewhere without an event: no activity after quietAt.
      if (!isActive(ticket.customer, now)) continue;
      return buildTicketResolved(ctx, population[ticket.customer] as CustomerProfile, ticket, at);
    }
    let customer: number | undefined;
    if (recentBuyers.length > 0 && rng.chance(TICKET_FROM_RECENT_PURCHASE)) {
      const buyer = rng.pick(recentBuyers);
      if (isActive(buyer, now)) customer = buyer;
    }
    customer ??= drawCustomer('support-ticket', now);
    const opened = buildTicketOpened(ctx, population[customer] as CustomerProfile, at);
    openTickets.push({ ticketId: opened.ticketId, priority: opened.priority, customer });
    return opened;
  };

  const validMessage = (kind: EventKind, now: number): GeneratedMessage => {
    const at = formatTimestamp(eventTime(now, rng, opts.lateRatio, opts.maxJitterMs), rng);
    let event: RawEvent;
    let key: string;
    if (kind === 'support-ticket') {
      const ticket = ticketEvent(now, at);
      event = ticket;
      key = ticket.ticketId;
    } else {
      const customer = drawCustomer(kind, now);
      const profile = population[customer] as CustomerProfile;
      if (kind === 'purchase') {
        const purchase = buildPurchase(ctx, profile, at);
        recentBuyers.push(customer);
        if (recentBuyers.length > RECENT_PURCHASES) recentBuyers.shift();
        event = purchase;
        key = purchase.orderId;
      } else {
        const click = buildEmailClick(ctx, profile, currentCampaign(now), at);
        event = click;
        key = click.emailId;
      }
    }
    return {
      topic: topicFor(opts.topics, kind),
      kind,
      key: rng.chance(NULL_KEY_RATIO) ? null : key,
      value: Buffer.from(JSON.stringify(event), 'utf8'),
      customerId: event.customerId,
      eventId: event.eventId,
    };
  };

  const malformedMessage = (now: number): GeneratedMessage => {
    const m = rng.weighted(streamMalformations.map((x) => [x, x.name === 'oversize' ? 0.05 : 1] as const));
    const kind = rng.pick(m.kinds);
    const customer = drawCustomer(kind, now);
    const valid = validBase(kind, ctx, population[customer] as CustomerProfile, now);
    // Every stream malformation yields bytes; only the corpus-only tombstone yields null.
    const value = m.make(valid, { now, rng }) ?? Buffer.alloc(0);
    return { topic: topicFor(opts.topics, kind), kind, key: rng.chance(NULL_KEY_RATIO) ? null : valid.eventId, value, malformed: m.name };
  };

  return {
    options: opts,
    population,
    get generated() {
      return seq;
    },
    next(now: number): GeneratedMessage {
      if (!Number.isFinite(now)) throw new InvalidGeneratorOptionError('now', now, 'epoch milliseconds');
      const message = streamMalformations.length > 0 && rng.chance(opts.malformedRatio) ? malformedMessage(now) : validMessage(chooseKind(), now);
      seq++;
      return message;
    },
  };
}
