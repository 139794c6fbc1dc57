import { describe, expect, it } from 'vitest';
import {
  makeAccount,
  makeCredential,
  makeSignUp,
  randomCredentialId,
  unicodeString,
  utf8StringOfBytes,
} from '../src/conformance/fixtures.js';

describe('conformance fixtures', () => {
  it('builds credential ids of the requested byte length in base64url', () => {
    const id = randomCredentialId(1023);
    expect(id).toHaveLength(1364);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(1023);
  });

  it('builds Unicode strings of an exact code-point length, astral characters included, no NUL', () => {
    for (const n of [1, 2, 63, 64]) expect([...unicodeString(n)]).toHaveLength(n);
    const s = unicodeString(64, '-tail');
    expect([...s]).toHaveLength(64);
    expect(s.endsWith('-tail')).toBe(true);
    expect([...s].some((c) => c.codePointAt(0)! > 0xffff)).toBe(true);
    expect(s.includes('\0')).toBe(false);
    expect(() => unicodeString(2, 'abc')).toThrow(RangeError);
  });

  it('builds strings of an exact UTF-8 byte length, no NUL', () => {
    for (const n of [0, 1, 100, 64 * 1024]) {
      const s = utf8StringOfBytes(n);
      expect(Buffer.byteLength(s, 'utf8')).toBe(n);
      expect(s.includes('\0')).toBe(false);
    }
  });

  it('draws fresh random identifiers and applies overrides', () => {
    const a = makeCredential();
    const b = makeCredential({ counter: 7 });
    expect(a.id).not.toBe(b.id);
    expect(a.userHandle).not.toBe(b.userHandle);
    expect(b.counter).toBe(7);
    expect(a.createdAt.getUTCMilliseconds()).toBeGreaterThan(0);
    expect(makeAccount().username).not.toBe(makeAccount().username);
    const { account, credential } = makeSignUp({ username: 'alice' });
    expect(account.username).toBe('alice');
    expect(credential.userHandle).toBe(account.userHandle);
  });
});
