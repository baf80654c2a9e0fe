import fc from 'fast-check';
import { eventIdFor } from './event-id';

describe('eventIdFor', () => {
  it('is a version-8 UUID string, the same for the same inputs', () => {
    const id = eventIdFor('2-7', 'high-value', 'LABEL_ASSIGNED');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdFor('2-7', 'high-value', 'LABEL_ASSIGNED')).toBe(id);
  });

  it('keeps the ids already published (consumers dedupe on them across re-sends)', () => {
    expect(eventIdFor('2-7', 'high-value', 'LABEL_ASSIGNED')).toBe('317fc9e9-f3b6-8c05-8e33-da65b9f79f98');
    expect(eventIdFor('0-1', 'engagé ✓', 'LABEL_REMOVED')).toBe('ad08c2dc-a754-87ac-9edc-67d9108c9f7c');
  });

  it('changes with each input', () => {
    const base = eventIdFor('2-7', 'high-value', 'LABEL_ASSIGNED');
    expect(eventIdFor('2-8', 'high-value', 'LABEL_ASSIGNED')).not.toBe(base);
    expect(eventIdFor('2-7', 'engaged', 'LABEL_ASSIGNED')).not.toBe(base);
    expect(eventIdFor('2-7', 'high-value', 'LABEL_REMOVED')).not.toBe(base);
  });

  it('does not collide over many distinct inputs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.nat(50), fc.nat(1000), fc.constantFrom('a', 'b', 'c')), { selector: (t) => t.join('|'), maxLength: 200 }), (inputs) => {
        const ids = inputs.map(([p, s, l]) => eventIdFor(`${p}-${s}`, l, 'LABEL_ASSIGNED'));
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });
});
