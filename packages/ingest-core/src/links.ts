/** URI schemes whose whole body is an address, a number or a handle. */
const CONTACT_SCHEMES: ReadonlySet<string> = new Set(['mailto', 'tel', 'sms', 'mms', 'callto', 'fax', 'facetime', 'skype', 'whatsapp', 'im', 'xmpp']);

/**
 * Reduces a clicked link to something safe to keep: query strings and fragments often
 * carry personal tokens (`?email=…`, `#access_token=…`), user-info carries credentials,
 * and contact schemes (`mailto:`, `tel:`, `sms:` …) are nothing *but* personal data.
 *
 * - `https://user:pw@Shop.example/p/42?utm=x#top` → `https://shop.example/p/42`
 * - `mailto:someone@example.com` → `mailto:`
 * - `/p/42?token=x` or `hero-banner#a` → `/p/42`, `hero-banner`
 *
 * Other values (`cta:header`, `urn:…`, plain ids) only lose their `?…` / `#…` tail.
 *
 * Returns null if an absolute hierarchical URL does not parse. Personal data placed in a
 * URL *path* cannot be recognised in general and is kept; producers must not put it there.
 */
export function sanitiseLink(raw: string): string | null {
  const text = raw.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  const schemeName = scheme?.[1]?.toLowerCase();
  if (schemeName !== undefined && CONTACT_SCHEMES.has(schemeName)) return `${schemeName}:`;
  const cut = text.split(/[?#]/, 1)[0] ?? '';
  if (scheme && text.startsWith('//', scheme[0].length)) {
    let url: URL;
    try {
      url = new URL(cut);
    } catch {
      return null;
    }
    return `${url.protocol}//${url.host}${url.pathname}`;
  }
  try {
    // Relative link or plain id: percent-encode anything outside ASCII, as a URL would.
    return encodeURI(cut);
  } catch {
    return null; // lone surrogate
  }
}
