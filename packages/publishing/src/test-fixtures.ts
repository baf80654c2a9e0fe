import type { LabelDecision } from '@labelstream/contracts';

/** A valid decision for tests; override any field. */
export function decision(overrides: Partial<LabelDecision> = {}): LabelDecision {
  return {
    decisionId: '2-7',
    sourcePartition: 2,
    seq: 7,
    customerId: 'c-42',
    effectiveAt: 1_763_900_000_000,
    decidedAt: 1_763_900_000_250,
    rulesVersion: 'rules@v3',
    cause: { kind: 'EVENT', eventId: 'e-1', eventType: 'PURCHASE', eventOccurredAt: 1_763_900_000_000 },
    changes: [
      { label: 'high-value', category: 'value', change: 'ASSIGNED', reason: 'enter', features: { spend_90d: 1200.5 } },
      { label: 'first-time-buyer', category: 'lifecycle', change: 'REMOVED', reason: 'exit', features: { purchases_lifetime: 2, vip: true, tier: 'gold', none: null } },
    ],
    labels: ['high-value', 'engaged'],
    labelCategories: { 'high-value': 'value', engaged: 'behaviour' },
    ...overrides,
  };
}
