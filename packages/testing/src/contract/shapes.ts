import { expect } from 'vitest';
import type { Answer } from './client.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export function expectIso(value: unknown): void {
  expect(value).toMatch(ISO);
}

export function base64urlBytes(value: string): number {
  expect(value).toMatch(B64URL);
  return Buffer.from(value, 'base64url').length;
}

/** `User` of the contract: exactly these keys. */
export function expectUser(user: unknown, expected: { name?: string; displayName?: string } = {}): void {
  expect(Object.keys(user as object).sort()).toEqual(['displayName', 'id', 'name']);
  const u = user as Record<string, unknown>;
  expect(typeof u['id']).toBe('string');
  if (expected.name !== undefined) expect(u['name']).toBe(expected.name);
  if (expected.displayName !== undefined) expect(u['displayName']).toBe(expected.displayName);
}

/** `Credential` of the contract: exactly these keys and types. */
export function expectCredential(credential: unknown): void {
  expect(Object.keys(credential as object).sort()).toEqual(
    [
      'aaguid',
      'authenticatorName',
      'backedUp',
      'createdAt',
      'deviceType',
      'id',
      'lastUsedAt',
      'nickname',
      'transports',
    ].sort(),
  );
  const c = credential as Record<string, unknown>;
  expect(c['id']).toMatch(B64URL);
  expect(c['nickname'] === null || typeof c['nickname'] === 'string').toBe(true);
  expectIso(c['createdAt']);
  if (c['lastUsedAt'] !== null) expectIso(c['lastUsedAt']);
  expect(['singleDevice', 'multiDevice']).toContain(c['deviceType']);
  expect(typeof c['backedUp']).toBe('boolean');
  expect(Array.isArray(c['transports'])).toBe(true);
  expect(c['aaguid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(c['authenticatorName'] === null || typeof c['authenticatorName'] === 'string').toBe(true);
}

/** `Signal` of the contract: exactly these keys. */
export function expectSignal(signal: unknown): void {
  expect(Object.keys(signal as object).sort()).toEqual(
    ['allAcceptedCredentialIds', 'displayName', 'name', 'rpId', 'userId'].sort(),
  );
}

/**
 * The error body: `{ error: { code, message } }` plus `field` (invalid_request) or `credentialId`
 * (unknown_credential), nothing else (no stack, no query, no detail); JSON, never cached.
 */
export function expectErrorBody(answer: Answer, status: number, code: string, extra: string[] = []): void {
  expect({ status: answer.status, code: answer.body?.error?.code }, answer.text).toEqual({ status, code });
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(Object.keys(answer.body.error).sort()).toEqual(['code', 'message', ...extra].sort());
  expect(typeof answer.body.error.message).toBe('string');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
}
