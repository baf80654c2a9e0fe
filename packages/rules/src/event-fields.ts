/** Event types a feature can aggregate (`any` = every event type). */
export type FeatureEvent = 'purchase' | 'email_click' | 'support_ticket' | 'any';
export const FEATURE_EVENTS: readonly FeatureEvent[] = ['purchase', 'email_click', 'support_ticket', 'any'];

/** Type of one field of the flat event view. `int?` is an int that may be null. */
export type EventFieldType = 'int' | 'int?' | 'string' | 'list<string>';

/**
 * The flat event view features and `where` filters see. The engine builds it from the
 * canonical CustomerEvent (see the engine's `toEngineEvent`); this table is the contract
 * between the two. Every numeric field is an integer (money in minor units, times in
 * epoch millis), so CEL sees it as `int`.
 */
export const COMMON_FIELDS: Readonly<Record<string, EventFieldType>> = {
  /** `PURCHASE`, `EMAIL_CLICK` or `SUPPORT_TICKET`. */
  eventType: 'string',
  /** Event time, epoch millis. */
  occurredAt: 'int',
};

export const EVENT_FIELDS: Readonly<Record<Exclude<FeatureEvent, 'any'>, Readonly<Record<string, EventFieldType>>>> = {
  purchase: {
    amountMinor: 'int',
    amountMinorBase: 'int',
    currency: 'string',
    itemCount: 'int',
    quantity: 'int',
    categories: 'list<string>',
    skus: 'list<string>',
    channel: 'string',
  },
  email_click: { campaignId: 'string', emailId: 'string', linkId: 'string' },
  support_ticket: { ticketId: 'string', status: 'string', priority: 'string', satisfactionScore: 'int?' },
};

/** The wire `eventType` symbol for each feature event name. */
export const EVENT_TYPE_OF: Readonly<Record<Exclude<FeatureEvent, 'any'>, string>> = {
  purchase: 'PURCHASE',
  email_click: 'EMAIL_CLICK',
  support_ticket: 'SUPPORT_TICKET',
};

/** All fields visible for events of the given feature event (`any`: only the common ones). */
export function fieldsOf(event: FeatureEvent): Readonly<Record<string, EventFieldType>> {
  return event === 'any' ? COMMON_FIELDS : { ...COMMON_FIELDS, ...EVENT_FIELDS[event] };
}

/**
 * One event as features and filters see it: the common fields plus the type's own.
 * Values are JS numbers (integers), strings, string lists or null.
 */
export type EventView = Readonly<Record<string, number | string | boolean | null | readonly string[]>>;
