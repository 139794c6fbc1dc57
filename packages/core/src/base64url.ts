/**
 * Strict base64url (RFC 4648 §5, no padding), the one binary encoding of the WebAuthn JSON forms.
 *
 * `Buffer.from(s, 'base64url')` silently skips characters it does not know and ignores non-zero
 * trailing bits, so two different strings can decode to the same bytes. Ids are compared as strings
 * throughout Passgate, so only the canonical form is accepted: it must re-encode to itself.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The unused low bits of the last character, by `length % 4`: a final group of 2 characters carries
 * 8 bits in 12 (4 unused), of 3 characters 16 in 18 (2 unused). Canonical means they are zero.
 */
const UNUSED_BITS = [0, 0, 0b1111, 0b11];

/**
 * Whether `value` is canonical base64url: only the alphabet, no padding, a length that is not
 * 1 mod 4, and zero unused bits in the last character. These are exactly the strings that
 * re-encode to themselves, checked without decoding (this runs on every field of every request).
 */
export function isBase64Url(value: string): boolean {
  const rest = value.length % 4;
  if (rest === 1 || !ALPHABET.test(value)) return false;
  if (rest === 0) return true;
  return (DIGITS.indexOf(value.charAt(value.length - 1)) & (UNUSED_BITS[rest] as number)) === 0;
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
