/** Shared test fixtures for the engine's tests (not part of the build). */
import { loadRules, type CompiledRules } from '@labelstream/rules';
import type { EngineEvent, EventAttr } from './event';

export const SEC = 1_000;
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** A round epoch time (2026-01-01T00:00:00Z) so bucket edges are easy to read. */
export const T0 = Date.UTC(2026, 0, 1);

export function rules(yaml: string): CompiledRules {
  return loadRules(`version: "test"\n${yaml}`);
}

export function purchase(id: string, t: number, attrs: Record<string, EventAttr> = {}): EngineEvent {
  return {
    eventId: id,
    customerId: 'c1',
    eventType: 'PURCHASE',
    occurredAt: t,
    attrs: { amountMinor: 1000, amountMinorBase: 1000, currency: 'EUR', itemCount: 1, quantity: 1, categories: [], skus: [], channel: 'WEB', ...attrs },
  };
}

export function click(id: string, t: number, attrs: Record<string, EventAttr> = {}): EngineEvent {
  return { eventId: id, customerId: 'c1', eventType: 'EMAIL_CLICK', occurredAt: t, attrs: { campaignId: 'cmp', emailId: 'em', linkId: 'ln', ...attrs } };
}

export function ticket(id: string, t: number, score: number | null, attrs: Record<string, EventAttr> = {}): EngineEvent {
  return {
    eventId: id,
    customerId: 'c1',
    eventType: 'SUPPORT_TICKET',
    occurredAt: t,
    attrs: { ticketId: id, status: 'RESOLVED', priority: 'NORMAL', satisfactionScore: score, ...attrs },
  };
}
