import fc from 'fast-check';
import { compileIngestPolicy, normaliseJson, personalKindOf, PSEUDONYMOUS_ID_PREFIX, pseudonymousId, type RawMessage } from './index';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const policy = compileIngestPolicy({});

function click(eventId: string, offset = '7'): RawMessage {
  const value = { eventId, customerId: 'cust-42', occurredAt: NOW - 1000, campaignId: 'cmp-1', emailId: 'm-1', url: 'https://shop.example/x' };
  return { kind: 'email-click', value: Buffer.from(JSON.stringify(value)), key: null, topic: 'storefront.email-clicks', partition: 0, offset };
}

function eventIdOf(msg: RawMessage): string {
  const r = normaliseJson(msg, policy, NOW);
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.event.eventId;
}

describe('personal-looking event ids', () => {
  it.each([
    ['jane.doe@example.com', 'email'],
    ['evt-Jane.Doe+shop@Example.CO.uk-2', 'email'],
    ['click:jane%40example.com', 'email'],
    ['+447946095812', 'phone'],
    ['sms-+44-20-7946-0958', 'phone'],
    ['+1(555)010-9999', 'phone'],
    ['tel:5550109999', 'phone'],
  ])('%s carries an %s', (id, kind) => {
    expect(personalKindOf(id)).toBe(kind);
  });

  it.each(['evt-1', 'order-1234567890123', '1717171717171', 'a1b2c3d4-e5f6-7890-abcd-ef0123456789', 'storefront.purchases:3:42', 'x@y', 'v2@build', 'price+1', '+12345'])(
    '%s is an ordinary id',
    (id) => {
      expect(personalKindOf(id)).toBeUndefined();
    },
  );

  it('replaces them with a recognisable hash: no trace of the address, same id for the same input', () => {
    const a = eventIdOf(click('jane.doe@example.com'));
    expect(a).toMatch(new RegExp(`^${PSEUDONYMOUS_ID_PREFIX}[0-9a-f]{32}$`));
    expect(a).not.toContain('jane');
    expect(a).not.toContain('example');
    // another record of the same event (a re-send): still a duplicate
    expect(eventIdOf(click('jane.doe@example.com', '99'))).toBe(a);
    expect(eventIdOf(click('Jane.Doe@example.com'))).not.toBe(a); // ids are compared exactly
    expect(eventIdOf(click('+447946095812'))).toBe(pseudonymousId('+447946095812'));
  });

  it('keys the hash with the policy\'s eventIdHashKey: still deterministic, not recomputable without the key', () => {
    const keyed = compileIngestPolicy({ eventIdHashKey: 'a-secret-of-sixteen+' });
    const hashed = (p: typeof policy, offset: string) => {
      const r = normaliseJson(click('jane.doe@example.com', offset), p, NOW);
      if (!r.ok) throw new Error(r.reason);
      return r.event.eventId;
    };
    const a = hashed(keyed, '1');
    expect(a).toMatch(/^pii-sha256:[0-9a-f]{32}$/);
    expect(hashed(keyed, '2')).toBe(a);
    expect(a).not.toBe(pseudonymousId('jane.doe@example.com'));
    expect(a).toBe(pseudonymousId('jane.doe@example.com', 'a-secret-of-sixteen+'));
  });

  it('leaves ordinary ids as they are', () => {
    expect(eventIdOf(click('evt-42'))).toBe('evt-42');
  });

  it('property: the canonical id never contains an e-mail address, and equal raw ids stay equal', () => {
    const local = fc.stringMatching(/^[A-Za-z0-9._+-]{1,20}$/);
    const domain = fc.stringMatching(/^[a-z0-9-]{1,12}\.[a-z]{2,6}$/);
    const around = fc.stringMatching(/^[A-Za-z0-9:_-]{0,20}$/);
    fc.assert(
      fc.property(around, local, domain, around, (before, user, host, after) => {
        const raw = `${before}${user}@${host}${after}`;
        fc.pre(raw.length <= 128);
        const id = eventIdOf(click(raw));
        expect(id.startsWith(PSEUDONYMOUS_ID_PREFIX)).toBe(true);
        expect(id).not.toContain('@');
        expect(id).not.toContain(host);
        expect(eventIdOf(click(raw, '8'))).toBe(id);
      }),
    );
  });

  it('property: ids drawn from the ordinary id alphabet pass through unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,60}$/), (id) => {
        expect(eventIdOf(click(id))).toBe(id);
      }),
    );
  });
});
