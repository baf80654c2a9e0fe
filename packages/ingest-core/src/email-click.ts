import type { EmailClick } from '@labelstream/contracts';
import { asString, isValidId, MAX_LINK_LENGTH, optional, requireId, type RawObject } from './fields';
import { sanitiseLink } from './links';
import { reject } from './rejection';

function readLink(obj: RawObject): string {
  const linkId = optional(obj, 'linkId');
  if (linkId !== undefined) {
    // Producers put URLs in linkId too; the same stripping applies.
    const link = sanitiseLink(asString(linkId, 'linkId'));
    if (link === null || !isValidId(link, MAX_LINK_LENGTH)) {
      reject('INVALID_ID', 'linkId', `must be 1–${MAX_LINK_LENGTH} printable ASCII characters without spaces once its query string is removed`);
    }
    return link;
  }
  const url = optional(obj, 'url');
  if (url === undefined) reject('MISSING_FIELD', 'linkId', 'is required (or give url)');
  const link = sanitiseLink(asString(url, 'url'));
  if (link === null || !isValidId(link, MAX_LINK_LENGTH)) {
    reject('INVALID_URL', 'url', `must be a URL of at most ${MAX_LINK_LENGTH} characters once its query string and fragment are removed`);
  }
  return link;
}

/** Validates and normalises the click-specific fields of a raw email click. */
export function readEmailClick(obj: RawObject): EmailClick {
  const campaignId = requireId(obj, 'campaignId', 'campaignId');
  const emailId = requireId(obj, 'emailId', 'emailId');
  // The id of the message sent, never the recipient's address.
  if (emailId.includes('@')) reject('INVALID_ID', 'emailId', 'must be the id of the email message, not an email address');
  return { campaignId, emailId, linkId: readLink(obj) };
}
