import {
  TICKET_PRIORITY_SYMBOLS,
  TICKET_STATUS_SYMBOLS,
  type SupportTicket,
  type TicketPriority,
} from '@labelstream/contracts';
import { asInteger, asString, matchSymbol, optional, required, requireId, type RawObject } from './fields';
import { reject } from './rejection';

const lower = (symbols: readonly string[]): string => symbols.map((s) => s.toLowerCase()).join(', ');

/**
 * Unlike channel, priority has no catch-all symbol, so an unknown value is rejected
 * rather than guessed (a wrong priority would be silently mis-counted).
 */
function readPriority(obj: RawObject): TicketPriority {
  const v = optional(obj, 'priority');
  if (v === undefined) return 'NORMAL';
  const p = matchSymbol(asString(v, 'priority'), TICKET_PRIORITY_SYMBOLS);
  if (p === undefined) reject('INVALID_ENUM', 'priority', `must be one of ${lower(TICKET_PRIORITY_SYMBOLS)}`);
  return p;
}

/** Validates and normalises the ticket-specific fields of a raw support ticket. */
export function readSupportTicket(obj: RawObject): SupportTicket {
  const ticketId = requireId(obj, 'ticketId', 'ticketId');
  const status = matchSymbol(asString(required(obj, 'status', 'status'), 'status'), TICKET_STATUS_SYMBOLS);
  if (status === undefined) reject('INVALID_ENUM', 'status', `must be one of ${lower(TICKET_STATUS_SYMBOLS)}`);
  const priority = readPriority(obj);
  const score = optional(obj, 'satisfactionScore');
  const satisfactionScore = score === undefined ? null : asInteger(score, 'satisfactionScore', 1, 5);
  return { ticketId, status, priority, satisfactionScore };
}
