import { sanitiseLink } from './links';

describe('sanitiseLink', () => {
  it.each([
    ['https://user:pw@Shop.Example.com:8443/p/42?utm=x#top', 'https://shop.example.com:8443/p/42'],
    ['http://shop.example.com', 'http://shop.example.com/'],
    ['https://shop.example.com/caf\u00e9?x=1', 'https://shop.example.com/caf%C3%A9'],
    ['MAILTO:jane@example.com', 'mailto:'],
    ['tel:+15550100', 'tel:'],
    ['sms:+15550100?body=hi', 'sms:'],
    ['/p/42?token=abc', '/p/42'],
    ['hero-banner#section', 'hero-banner'],
    ['cta:header?x', 'cta:header'],
    ['urn:isbn:0451450523', 'urn:isbn:0451450523'],
    ['  spaced id  ', 'spaced%20id'],
    ['?only=query', ''],
  ])('%j → %j', (raw, expected) => {
    expect(sanitiseLink(raw)).toBe(expected);
  });

  it('returns null for unparseable absolute URLs and lone surrogates', () => {
    expect(sanitiseLink('https://exa mple.com/x')).toBeNull();
    expect(sanitiseLink('https://')).toBeNull();
    expect(sanitiseLink('bad\uD800link')).toBeNull();
  });
});
