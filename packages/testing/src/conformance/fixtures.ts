import { randomBytes } from 'node:crypto';
import type { Account, StoredCredential } from '@passgate/core';

/**
 * Fixture builders for storage tests. Every builder draws fresh random identifiers, so tests that
 * share one store (as the conformance suite does) never see each other's data.
 */

/** `bytes` random bytes as base64url without padding, the form every binary identifier takes. */
export function randomBase64url(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random credential id (16 bytes by default; WebAuthn allows 1..1023). */
export function randomCredentialId(bytes = 16): string {
  return randomBase64url(bytes);
}

/** A random WebAuthn user handle (32 bytes, as the core generates them). */
export function randomUserHandle(): string {
  return randomBase64url(32);
}

/** A random application user id. */
export function randomUserId(): string {
  return `user_${randomBytes(12).toString('hex')}`;
}

/** A random canonical (lower-case ASCII) username. */
export function randomUsername(): string {
  return `u-${randomBytes(8).toString('hex')}`;
}

/** A random ceremony id, as the challenge store receives them. */
export function randomCeremonyId(): string {
  return randomBase64url(32);
}

/** A date with a non-zero millisecond part, so a store that truncates to seconds fails the round trip. */
export function randomDate(): Date {
  const base = Date.UTC(2025, 0, 1);
  return new Date(
    base + Math.floor(Math.random() * 365 * 24 * 3600) * 1000 + 1 + Math.floor(Math.random() * 998),
  );
}

/**
 * A complete credential with random id, user handle and key bytes. Pass `userHandle` to give it to an
 * existing account.
 */
export function makeCredential(overrides: Partial<StoredCredential> = {}): StoredCredential {
  return {
    id: randomCredentialId(),
    userHandle: randomUserHandle(),
    // A plausible COSE_Key length, with every byte value likely to appear somewhere across tests.
    publicKey: new Uint8Array(randomBytes(77)),
    algorithm: -7,
    counter: 0,
    transports: ['internal', 'hybrid'],
    backupEligible: true,
    backedUp: true,
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    attestationFormat: 'none',
    nickname: null,
    createdAt: randomDate(),
    lastUsedAt: null,
    ...overrides,
  };
}

/** A complete account with random user id, user handle and username. */
export function makeAccount(overrides: Partial<Account> = {}): Account {
  const username = overrides.username ?? randomUsername();
  return {
    userId: randomUserId(),
    userHandle: randomUserHandle(),
    username,
    displayName: `Display ${username}`,
    createdAt: randomDate(),
    ...overrides,
  };
}

/**
 * An account and its first credential (owned by it), ready for `AccountRepository.create`.
 * `credential.userHandle` always follows the account's.
 */
export function makeSignUp(
  accountOverrides: Partial<Account> = {},
  credentialOverrides: Partial<Omit<StoredCredential, 'userHandle'>> = {},
): { account: Account; credential: StoredCredential } {
  const account = makeAccount(accountOverrides);
  const credential = makeCredential({ ...credentialOverrides, userHandle: account.userHandle });
  return { account, credential };
}

/**
 * A string of exactly `codePoints` code points mixing ASCII, Latin, CJK, combining marks and astral
 * characters (emoji, musical symbols), ending in `suffix` (counted in the length). No NUL.
 */
export function unicodeString(codePoints: number, suffix = ''): string {
  const palette = [...'Zé中😀𝄞ß\u0301ж€🇫🇷👩‍💻Ω𐍈'];
  const tail = [...suffix];
  if (tail.length > codePoints) throw new RangeError('suffix is longer than the requested length');
  const out: string[] = [];
  for (let i = 0; out.length < codePoints - tail.length; i++) out.push(palette[i % palette.length]!);
  return out.join('') + suffix;
}

/**
 * A string of exactly `bytes` bytes of UTF-8, mostly multi-byte characters (2, 3 and 4 bytes each),
 * plus JSON-hostile characters (quotes, backslashes, control characters, U+2028). No NUL.
 */
export function utf8StringOfBytes(bytes: number): string {
  const chunk = '{"k":"é中😀\\\\\\"\n\t\u2028\u{10FFFF}\u{1F9EA}"},';
  const chunkBytes = Buffer.byteLength(chunk, 'utf8');
  let s = chunk.repeat(Math.floor(bytes / chunkBytes));
  s += 'x'.repeat(bytes - Buffer.byteLength(s, 'utf8'));
  return s;
}
