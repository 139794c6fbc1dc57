/**
 * Strict base64url (RFC 4648 §5, no padding), the one binary encoding of the WebAuthn JSON forms.
 *
 * `Buffer.from(s, 'base64url')` silently skips characters it does not know and ignores non-zero
 * trailing bits, so two different strings can decode to the same bytes. Ids are compared as strings
 * throughout Passgate, so only the canonical form is accepted: it must re-encode to itself.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function isBase64Url(value: string): boolean {
  if (!ALPHABET.test(value) || value.length % 4 === 1) return false;
  return Buffer.from(value, 'base64url').toString('base64url') === value;
}

/** Decodes canonical base64url; returns `null` for anything else. */
export function decodeBase64Url(value: string): Uint8Array<ArrayBuffer> | null {
  if (!isBase64Url(value)) return null;
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Number of bytes a canonical base64url string decodes to, without decoding it. */
export function base64UrlByteLength(value: string): number {
  return Math.floor((value.length * 3) / 4);
}
