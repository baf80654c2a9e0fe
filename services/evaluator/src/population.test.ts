import type { LabelChange } from '@labelstream/contracts';
import type { StepDecision } from './customer-steps';
import { flaps, populationDelta } from './population';

const H = 3_600_000;

function decision(at: number, ...changes: Array<[string, LabelChange['change']]>): StepDecision {
  return {
    effectiveAt: at,
    labels: [],
    cause: { kind: 'EVENT', eventId: `e${at}`, eventType: 'PURCHASE', eventOccurredAt: at },
    changes: changes.map(([label, change]) => ({ label, change, category: 'value', reason: change === 'ASSIGNED' ? 'enter' : 'exit', features: {} })),
  };
}

describe('populationDelta', () => {
  it('counts a new customer with no label as unlabelled, and one with labels under each label', () => {
    expect(populationDelta(null, {})).toEqual(new Map([['~none', 1]]));
    expect(populationDelta(null, { customer: 1, engaged: 1 })).toEqual(new Map([['customer', 1], ['engaged', 1]]));
  });

  it('moves a customer out of "no label" when it gains its first, and back when it loses its last', () => {
    expect(populationDelta({}, { customer: 5 })).toEqual(new Map([['customer', 1], ['~none', -1]]));
    expect(populationDelta({ customer: 5 }, {})).toEqual(new Map([['customer', -1], ['~none', 1]]));
  });

  it('gives +1 / −1 per label entered / left and nothing for labels kept or a state that stayed unlabelled', () => {
    expect(populationDelta({ customer: 1, engaged: 2 }, { customer: 1, high_value: 3 })).toEqual(new Map([['high_value', 1], ['engaged', -1]]));
    expect(populationDelta({ customer: 1 }, { customer: 9 })).toEqual(new Map());
    expect(populationDelta({}, {})).toEqual(new Map());
  });
});

describe('flaps', () => {
  it('counts an exit within the window of the entry held before the batch', () => {
    expect(flaps({ engaged: 0 }, [decision(2 * H, ['engaged', 'REMOVED'])], 3 * H)).toEqual(['engaged']);
    expect(flaps({ engaged: 0 }, [decision(3 * H, ['engaged', 'REMOVED'])], 3 * H)).toEqual([]);
  });

  it('follows entries and exits inside one batch, in order', () => {
    const ds = [decision(10 * H, ['engaged', 'ASSIGNED']), decision(11 * H, ['engaged', 'REMOVED']), decision(12 * H, ['engaged', 'ASSIGNED']), decision(40 * H, ['engaged', 'REMOVED'])];
    expect(flaps(null, ds, 24 * H)).toEqual(['engaged']);
  });

  it('ignores an exit of a label whose entry it does not know', () => {
    expect(flaps({}, [decision(H, ['vip', 'REMOVED'])], 24 * H)).toEqual([]);
  });
});
