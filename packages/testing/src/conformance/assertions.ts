import type { Account, ErrorCode, StoredCredential } from '@passgate/core';
import { expect } from './expect.js';

/**
 * Comparison helpers shared by the conformance modules. Stored values are compared through plain
 * snapshots (bytes as hex, dates as epoch milliseconds) so a failure shows a readable diff.
 */

const CREDENTIAL_KEYS = [
  'aaguid',
  'algorithm',
  'attestationFormat',
  'backedUp',
  'backupEligible',
  'counter',
  'createdAt',
  'id',
  'lastUsedAt',
  'nickname',
  'publicKey',
  'transports',
  'userHandle',
];
const ACCOUNT_KEYS = ['createdAt', 'displayName', 'userHandle', 'userId', 'username'];

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
// Not `instanceof Date`: a test's `structuredClone` may make Dates of another realm (Jest's vm contexts).
const ms = (date: Date | null) =>
  Object.prototype.toString.call(date) === '[object Date]' ? (date as Date).getTime() : date;

export function credentialSnapshot(c: StoredCredential): Record<string, unknown> {
  return {
    ...c,
    publicKey: hex(c.publicKey),
    // A fresh array of this realm, so a deep comparison never trips over another realm's prototype.
    transports: Array.isArray(c.transports) ? [...c.transports] : c.transports,
    createdAt: ms(c.createdAt),
    lastUsedAt: ms(c.lastUsedAt),
  };
}

export function accountSnapshot(a: Account): Record<string, unknown> {
  return { ...a, createdAt: ms(a.createdAt) };
}

/** `actual` is a credential equal to `expected` field by field, with the declared types and no extra keys. */
export function expectCredential(
  actual: StoredCredential | null | undefined,
  expected: StoredCredential,
): void {
  expect(actual, `credential ${expected.id.slice(0, 16)}… should exist`).toBeTruthy();
  const c = actual!;
  expect(Object.keys(c).sort(), 'credential keys').toEqual(CREDENTIAL_KEYS);
  expect(c.publicKey, 'publicKey').toBeInstanceOf(Uint8Array);
  expect(c.createdAt, 'createdAt').toBeInstanceOf(Date);
  if (c.lastUsedAt !== null) expect(c.lastUsedAt, 'lastUsedAt').toBeInstanceOf(Date);
  expect(Array.isArray(c.transports), 'transports is an array').toBe(true);
  expect(credentialSnapshot(c)).toEqual(credentialSnapshot(expected));
}

/** `actual` is an account equal to `expected` field by field, with the declared types and no extra keys. */
export function expectAccount(actual: Account | null | undefined, expected: Account): void {
  expect(actual, `account ${expected.username} should exist`).toBeTruthy();
  const a = actual!;
  expect(Object.keys(a).sort(), 'account keys').toEqual(ACCOUNT_KEYS);
  expect(a.createdAt, 'createdAt').toBeInstanceOf(Date);
  expect(accountSnapshot(a)).toEqual(accountSnapshot(expected));
}

/** The credentials' ids, in order. */
export const ids = (credentials: readonly StoredCredential[]): string[] => credentials.map((c) => c.id);

/** Resolves the rejection reason of `promise`; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}

/** The `code` of an error-like value. */
export function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/**
 * `promise` rejects with a Passgate error of this `code`. Checked by `code` rather than `instanceof`
 * (what `isPassgateError(err, code)` also checks) so an adapter bundling its own copy of the core
 * still passes.
 */
export async function expectRejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error, 'rejection reason').toBeInstanceOf(Error);
  expect(codeOf(error), `rejection code (error: ${String(error)})`).toBe(code);
}

/** Splits settled results into the fulfilled values and the rejection codes. */
export function settle<T>(results: PromiseSettledResult<T>[]): { fulfilled: T[]; rejectedCodes: unknown[] } {
  const fulfilled: T[] = [];
  const rejectedCodes: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') fulfilled.push(result.value);
    else rejectedCodes.push(codeOf(result.reason) ?? String(result.reason));
  }
  return { fulfilled, rejectedCodes };
}

/** Runs `count` calls of `call` at once (all started before any settles). */
export function concurrently<T>(
  count: number,
  call: (index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(Array.from({ length: count }, (_, index) => call(index)));
}
