import { z } from 'zod';
import { isBase64Url } from './base64url.js';
import { invalidRequest } from './errors.js';

/**
 * The JSON body schemas of the HTTP contract. What JSON and base64url decoding and these schemas
 * reject is `invalid_request` naming the field; what is wrong inside well-encoded WebAuthn data is
 * found later and is `verification_failed`.
 */

const codePoints = (value: string) => [...value].length;

/**
 * Control characters (C0, DEL, C1) have no place in a name, and PostgreSQL's `text` refuses U+0000
 * outright: names are printable text in every store alike.
 */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** A surrogate without its pair: not a character, and stores turn it into U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Printable text: well-formed UTF-16 (no lone surrogates) without control characters. */
export function isPrintableText(value: string): boolean {
  return !hasControlCharacter(value) && !LONE_SURROGATE.test(value);
}

/** A name as Passgate keeps it: printable text of `min` to 64 Unicode code points (not UTF-16 units). */
export function isNameText(value: unknown, min: number): value is string {
  if (typeof value !== 'string' || !isPrintableText(value)) return false;
  const length = codePoints(value);
  return length >= min && length <= 64;
}

/** The longest application user id Passgate takes, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 255;

/**
 * An application user id that every store keeps and finds exactly: 1 to 255 UTF-16 code units, with
 * no lone surrogate (stores that keep UTF-8 turn each into U+FFFD, so two different ids would find
 * one account) and no U+0000 (PostgreSQL's text cannot hold it: the store would fail, a 500). Any
 * other character is the application's business.
 */
export function isUserIdText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_USER_ID_LENGTH &&
    !value.includes('\u0000') &&
    !LONE_SURROGATE.test(value)
  );
}

/** A string of `min..max` Unicode code points (not UTF-16 units) of printable text. */
const text = (min: number, max: number) =>
  z
    .string()
    .refine(isPrintableText, { message: 'must be text without control characters' })
    .refine((v) => codePoints(v) >= min && codePoints(v) <= max, {
      message: min > 0 ? `must be ${min} to ${max} characters` : `must be at most ${max} characters`,
    });

/**
 * Canonical base64url, bounded. 64 KiB bodies bound everything anyway; these caps keep each field to
 * what real authenticators send (attestation objects with certificate chains stay under 16 KiB).
 */
const b64url = (maxChars: number) =>
  z
    .string()
    .max(maxChars, { message: 'is too long' })
    .refine(isBase64Url, { message: 'must be base64url without padding' });

export const hintSchema = z.enum(['security-key', 'client-device', 'hybrid']);
const hints = z.array(hintSchema).max(3).optional();

/** `conditional`: a conditional create (signed in only); `required` (the default): a modal one. */
const mediation = z.enum(['conditional', 'required']).optional();

export const registerOptionsBodySchema = z.object({
  username: text(1, 64).optional(),
  displayName: text(0, 64).optional(),
  hints,
  mediation,
});

/** When signed in, `username` and `displayName` are ignored: only hints and mediation are read. */
export const registerOptionsSignedInBodySchema = z.object({ hints, mediation });

export const loginOptionsBodySchema = z.object({
  username: text(1, 64).optional(),
  hints,
});

const transports = z.array(z.string().max(32)).max(16).optional();
const extensionResults = z.record(z.string(), z.unknown()).optional();
const attachment = z.string().max(32).optional().nullable();

export const registrationResponseSchema = z.object({
  // Ids longer than WebAuthn's 1023-byte limit still parse: that limit is a verification rule.
  id: b64url(8192),
  rawId: b64url(8192),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(8192),
    attestationObject: b64url(40_000),
    authenticatorData: b64url(40_000).optional(),
    transports,
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8192).optional(),
  }),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
  nickname: text(0, 64).optional(),
});

export const authenticationResponseSchema = z.object({
  id: b64url(8192),
  rawId: b64url(8192),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(8192),
    signature: b64url(2048),
    userHandle: b64url(128).optional().nullable(),
  }),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
});

export const renameBodySchema = z.object({ nickname: text(1, 64) });

export type RegisterOptionsBody = z.infer<typeof registerOptionsBodySchema>;
export type LoginOptionsBody = z.infer<typeof loginOptionsBodySchema>;
export type RegistrationResponseBody = z.infer<typeof registrationResponseSchema>;
export type AuthenticationResponseBody = z.infer<typeof authenticationResponseSchema>;
export type RenameBody = z.infer<typeof renameBodySchema>;

/** Parses `value` or throws `invalid_request` naming the first offending field as a JSON path. */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const field =
    path.length === 0 ? '$' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');
  const message = issue ? `${field === '$' ? 'body' : field} ${describeIssue(issue)}` : 'invalid body';
  throw invalidRequest(field.replace(/\.\[/g, '['), message);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${issue.expected}`;
    case 'invalid_value':
      return 'has a value that is not allowed';
    default:
      return issue.message.startsWith('must') || issue.message.startsWith('is')
        ? issue.message
        : 'is invalid';
  }
}
