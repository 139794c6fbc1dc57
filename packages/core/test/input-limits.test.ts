import {
  authenticationResponseSchema,
  isBase64Url,
  loginOptionsBodySchema,
  PassgateError,
  parseBody,
  registerOptionsBodySchema,
  registrationResponseSchema,
  renameBodySchema,
} from '@passgate/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guardAttestationObject, guardAuthenticatorData, skipCborItem } from '../src/cbor-guard.js';
import { nestedCborArrays } from './helpers.js';

const registration = () => ({
  id: 'AAECAw',
  rawId: 'AAECAw',
  type: 'public-key',
  response: { clientDataJSON: 'e30', attestationObject: 'oA', transports: ['usb'] },
  clientExtensionResults: {},
});
const authentication = () => ({
  id: 'AAECAw',
  rawId: 'AAECAw',
  type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AQID', userHandle: 'AQID' },
  clientExtensionResults: {},
});

function rejection(schema: Parameters<typeof parseBody>[0], value: unknown): PassgateError {
  try {
    parseBody(schema, value);
  } catch (error) {
    expect(error).toBeInstanceOf(PassgateError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
    return error as PassgateError;
  }
  throw new Error('expected invalid_request');
}

describe('isBase64Url', () => {
  it.each(['', 'AA', 'AAA', 'AAAA', 'AQID', '-_-_', 'e30'])('accepts canonical %j', (value) => {
    expect(isBase64Url(value)).toBe(true);
  });
  it.each([
    ['padding', 'AA=='],
    ['single padding', 'AAA='],
    ['plus', 'A+B/'],
    ['slash', 'AB/C'],
    ['whitespace', 'AA AA'],
    ['length 1 mod 4', 'AAAAA'],
    ['non-canonical trailing bits (2 chars)', 'AB'],
    ['non-canonical trailing bits (3 chars)', 'AAB'],
    ['non-ASCII', 'AAé'],
  ])('rejects %s', (_label, value) => {
    expect(isBase64Url(value)).toBe(false);
  });

  // The definition it implements without decoding: canonical = re-encodes to itself.
  const roundTrips = (value: string) =>
    /^[A-Za-z0-9_-]*$/.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;

  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  it('agrees with the decode/encode round trip on any string of base64-ish characters', () => {
    const chars = fc.constantFrom(...digits.split(''), '+', '/', '=', ' ', '%', 'é', '\u0000');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (list) => {
        const value = list.join('');
        expect(isBase64Url(value)).toBe(roundTrips(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts the encoding of any bytes, and of its variants in the last character only the canonical one', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        const value = Buffer.from(bytes).toString('base64url');
        expect(isBase64Url(value)).toBe(true);
        if (value.length === 0) return;
        for (const digit of digits) {
          const variant = `${value.slice(0, -1)}${digit}`;
          expect(isBase64Url(variant)).toBe(variant === value || roundTrips(variant));
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseBody: response schemas', () => {
  it('accepts well-formed bodies and keeps the data', () => {
    expect(parseBody(registrationResponseSchema, registration())).toMatchObject({ id: 'AAECAw' });
    expect(parseBody(authenticationResponseSchema, authentication())).toMatchObject({ id: 'AAECAw' });
    const noHandle = authentication();
    (noHandle.response as Record<string, unknown>).userHandle = null;
    expect(parseBody(authenticationResponseSchema, noHandle).response.userHandle).toBeNull();
  });

  it.each([
    ['response.clientDataJSON', (b: any) => (b.response.clientDataJSON = 'e30=')],
    ['response.clientDataJSON', (b: any) => delete b.response.clientDataJSON],
    ['response.attestationObject', (b: any) => (b.response.attestationObject = 'o+A')],
    ['response.attestationObject', (b: any) => (b.response.attestationObject = 'A'.repeat(40_004))],
    ['id', (b: any) => (b.id = 'AB')],
    ['rawId', (b: any) => (b.rawId = 42)],
    ['type', (b: any) => (b.type = 'password')],
    ['response.transports[0]', (b: any) => (b.response.transports = [7])],
    ['response', (b: any) => (b.response = 'x')],
    ['nickname', (b: any) => (b.nickname = '😀'.repeat(65))],
  ])('registration: names %s', (field, mutate) => {
    const body = registration();
    mutate(body);
    expect(rejection(registrationResponseSchema, body).field).toBe(field);
  });

  it.each([
    ['response.signature', (b: any) => (b.response.signature = 'AQ==')],
    ['response.authenticatorData', (b: any) => (b.response.authenticatorData = 'AAB')],
    ['response.userHandle', (b: any) => (b.response.userHandle = 'A'.repeat(132))],
    ['response.clientDataJSON', (b: any) => (b.response.clientDataJSON = null)],
    ['id', (b: any) => (b.id = 'AA AA')],
  ])('authentication: names %s', (field, mutate) => {
    const body = authentication();
    mutate(body);
    expect(rejection(authenticationResponseSchema, body).field).toBe(field);
  });

  it('names the whole body for a non-object', () => {
    expect(rejection(authenticationResponseSchema, 'hello').field).toBe('$');
    expect(rejection(registrationResponseSchema, null).field).toBe('$');
  });

  it('lets ids over 1023 bytes parse (the size limit is a verification rule)', () => {
    const body = registration();
    body.id = body.rawId = Buffer.alloc(1024, 1).toString('base64url');
    expect(() => parseBody(registrationResponseSchema, body)).not.toThrow();
  });

  it('the error body names the field and hides nothing else', () => {
    const body = registration();
    body.response.clientDataJSON = 'e30=';
    expect(rejection(registrationResponseSchema, body).toJSON()).toEqual({
      error: {
        code: 'invalid_request',
        message: expect.stringContaining('response.clientDataJSON'),
        field: 'response.clientDataJSON',
      },
    });
  });
});

describe('parseBody: option and rename schemas', () => {
  it('counts code points: 64 emoji are fine, 65 are not', () => {
    expect(parseBody(registerOptionsBodySchema, { username: '😀'.repeat(64) }).username).toHaveLength(128);
    expect(rejection(registerOptionsBodySchema, { username: '😀'.repeat(65) }).field).toBe('username');
    expect(
      parseBody(registerOptionsBodySchema, { username: 'a', displayName: '👍'.repeat(64) }),
    ).toBeTruthy();
    expect(rejection(registerOptionsBodySchema, { username: 'a', displayName: '👍'.repeat(65) }).field).toBe(
      'displayName',
    );
    expect(parseBody(renameBodySchema, { nickname: '🔑'.repeat(64) })).toBeTruthy();
    expect(rejection(renameBodySchema, { nickname: '🔑'.repeat(65) }).field).toBe('nickname');
  });

  it.each([
    ['a NUL', 'ali\u0000ce'],
    ['a tab', 'ali\tce'],
    ['a newline', 'alice\n'],
    ['DEL', 'ali\u007fce'],
    ['a C1 control', 'ali\u0085ce'],
    ['a lone high surrogate', 'alice\ud800'],
    ['a lone low surrogate', '\udc00alice'],
  ])('rejects names with %s (stores would refuse or mangle them)', (_label, value) => {
    expect(rejection(registerOptionsBodySchema, { username: value }).field).toBe('username');
    expect(rejection(loginOptionsBodySchema, { username: value }).field).toBe('username');
    expect(rejection(registerOptionsBodySchema, { username: 'a', displayName: value }).field).toBe(
      'displayName',
    );
    expect(rejection(renameBodySchema, { nickname: value }).field).toBe('nickname');
  });

  it('accepts printable Unicode: astral characters, ZWJ sequences, combining marks, RTL', () => {
    for (const value of ['😀', '👩‍💻 dev', 'e\u0301', 'مرحبا', 'Zoë Ångström']) {
      expect(parseBody(registerOptionsBodySchema, { username: value, displayName: value })).toBeTruthy();
      expect(parseBody(renameBodySchema, { nickname: value })).toBeTruthy();
    }
  });

  it('rejects an empty username and an empty rename', () => {
    expect(rejection(registerOptionsBodySchema, { username: '' }).field).toBe('username');
    expect(rejection(loginOptionsBodySchema, { username: '' }).field).toBe('username');
    expect(rejection(renameBodySchema, { nickname: '' }).field).toBe('nickname');
    expect(rejection(renameBodySchema, {}).field).toBe('nickname');
  });

  it('accepts an empty body for options (username optional at schema level)', () => {
    expect(parseBody(registerOptionsBodySchema, {})).toEqual({});
    expect(parseBody(loginOptionsBodySchema, {})).toEqual({});
  });

  it('accepts the three hints in order and rejects anything else', () => {
    expect(
      parseBody(loginOptionsBodySchema, { hints: ['hybrid', 'security-key', 'client-device'] }).hints,
    ).toEqual(['hybrid', 'security-key', 'client-device']);
    expect(rejection(loginOptionsBodySchema, { hints: ['hybrid', 'platform'] }).field).toBe('hints[1]');
    expect(rejection(registerOptionsBodySchema, { hints: 'hybrid' }).field).toBe('hints');
  });

  it('rejects a wrong type for username', () => {
    expect(rejection(loginOptionsBodySchema, { username: 5 }).field).toBe('username');
  });
});

describe('CBOR guard', () => {
  const limits = { maxDepth: 8, maxItems: 512 };

  it('skips well-formed items and returns the offset after them', () => {
    expect(skipCborItem(Uint8Array.of(0x00), 0)).toBe(1);
    expect(skipCborItem(Uint8Array.of(0x18, 0xff, 0x00), 0)).toBe(2);
    expect(skipCborItem(Uint8Array.of(0x43, 1, 2, 3, 0x00), 0)).toBe(4);
    expect(skipCborItem(Uint8Array.of(0xa1, 0x01, 0x82, 0x02, 0x03), 0)).toBe(5);
    expect(skipCborItem(Uint8Array.of(0xc0, 0x00), 0)).toBe(2);
    expect(skipCborItem(Uint8Array.of(0x9f, 0x01, 0x02, 0xff), 0)).toBe(4);
    expect(skipCborItem(Uint8Array.of(0x5f, 0x41, 0x01, 0xff), 0)).toBe(4);
    expect(skipCborItem(Uint8Array.of(0x80), 0)).toBe(1);
    expect(skipCborItem(Uint8Array.of(0xa0), 0)).toBe(1);
  });

  it('allows nesting up to maxDepth and rejects one level more', () => {
    expect(skipCborItem(nestedCborArrays(8), 0, limits)).toBe(9);
    expect(() => skipCborItem(nestedCborArrays(9), 0, limits)).toThrow(/too deep/);
    expect(() => skipCborItem(Uint8Array.of(...Array(9).fill(0x9f), 0x00), 0, limits)).toThrow(/too deep/);
    expect(() => skipCborItem(Uint8Array.of(...Array(9).fill(0xc0), 0x00), 0, limits)).toThrow(/too deep/);
  });

  it('rejects 10,000-deep nesting quickly without a stack overflow', () => {
    expect(() => skipCborItem(nestedCborArrays(10_000), 0)).toThrow(/too deep/);
  });

  it('bounds the number of items, including declared counts', () => {
    const many = Uint8Array.of(0x99, 0x02, 0x00, ...Array(512).fill(0x00));
    expect(() => skipCborItem(many, 0, limits)).toThrow(/too many items/);
    // A huge declared length is refused before reading anything.
    expect(() => skipCborItem(Uint8Array.of(0x9a, 0xff, 0xff, 0xff, 0xff), 0, limits)).toThrow(
      /too many items/,
    );
    expect(() => skipCborItem(Uint8Array.of(0xba, 0x00, 0x00, 0x01, 0x01), 0, limits)).toThrow(
      /too many items/,
    );
    const atLimit = Uint8Array.of(0x99, 0x01, 0xff, ...Array(511).fill(0x00));
    expect(skipCborItem(atLimit, 0, limits)).toBe(atLimit.length);
  });

  it.each([
    ['empty input', []],
    ['a truncated argument', [0x19, 0x01]],
    ['a truncated byte string', [0x45, 1, 2]],
    ['a truncated text string', [0x7a, 0, 0, 0, 9, 0x61]],
    ['a truncated array', [0x82, 0x01]],
    ['a truncated map', [0xa1, 0x01]],
    ['an unterminated indefinite array', [0x9f, 0x01]],
    ['reserved additional information', [0x1c]],
    ['a reserved simple value', [0xfc]],
    ['a break at the top level', [0xff]],
    ['a break inside a definite array', [0x82, 0x01, 0xff]],
    ['an indefinite-length integer', [0x1f]],
    ['an indefinite-length tag', [0xdf, 0x00]],
    ['an indefinite byte string with a text chunk', [0x5f, 0x61, 0x61, 0xff]],
    ['an indefinite text string with an array chunk', [0x7f, 0x80, 0xff]],
    ['nested indefinite strings', [0x5f, 0x5f, 0xff, 0xff]],
    ['an indefinite map with a key and no value', [0xbf, 0x01, 0xff]],
    ['a two-byte simple value below 32', [0xf8, 0x1f]],
  ])('rejects %s', (_label, bytes) => {
    expect(() => skipCborItem(Uint8Array.from(bytes), 0, limits)).toThrow();
  });

  it.each([
    ['an indefinite byte string of byte chunks', [0x5f, 0x41, 0x01, 0x42, 0x02, 0x03, 0xff]],
    ['an indefinite text string of text chunks', [0x7f, 0x61, 0x61, 0x60, 0xff]],
    ['an indefinite map with key and value', [0xbf, 0x01, 0x02, 0xff]],
    ['an indefinite array in a definite map', [0xa1, 0x01, 0x9f, 0x01, 0x02, 0xff]],
    ['a two-byte simple value of 32', [0xf8, 0x20]],
  ])('accepts %s', (_label, bytes) => {
    expect(skipCborItem(Uint8Array.from(bytes), 0, limits)).toBe(bytes.length);
  });

  it('guardAttestationObject rejects leftover bytes and passes a well-formed object', () => {
    const ok = Uint8Array.of(0xa1, 0x63, 0x66, 0x6d, 0x74, 0x64, 0x6e, 0x6f, 0x6e, 0x65);
    expect(() => guardAttestationObject(ok)).not.toThrow();
    expect(() => guardAttestationObject(Uint8Array.of(...ok, 0x00))).toThrow(
      expect.objectContaining({ code: 'verification_failed', reason: 'malformed_attestation_object' }),
    );
    expect(() => guardAttestationObject(nestedCborArrays(10_000))).toThrow(
      expect.objectContaining({ code: 'verification_failed', reason: 'malformed_attestation_object' }),
    );
  });

  describe('guardAuthenticatorData', () => {
    const head = (flags: number) => Uint8Array.of(...Array(32).fill(7), flags, 0, 0, 0, 1);
    const acd = (idLength: number) =>
      Uint8Array.of(...Array(16).fill(0), idLength >> 8, idLength & 0xff, ...Array(idLength).fill(9));
    const coseKey = Uint8Array.of(0xa1, 0x01, 0x02);

    it('accepts plain, attested and extension-carrying data', () => {
      expect(() => guardAuthenticatorData(head(0x01))).not.toThrow();
      expect(() => guardAuthenticatorData(Uint8Array.of(...head(0x41), ...acd(4), ...coseKey))).not.toThrow();
      expect(() => guardAuthenticatorData(Uint8Array.of(...head(0x81), 0xa0))).not.toThrow();
    });

    it.each([
      ['too short', () => Uint8Array.of(1, 2, 3)],
      ['leftover bytes', () => Uint8Array.of(...head(0x01), 0x00)],
      ['ED set without extensions', () => head(0x81)],
      ['AT set without attested data', () => head(0x41)],
      ['a credential id running past the end', () => Uint8Array.of(...head(0x41), ...acd(4).subarray(0, 20))],
      ['attested data without a key', () => Uint8Array.of(...head(0x41), ...acd(4))],
      ['deep extensions', () => Uint8Array.of(...head(0x81), ...nestedCborArrays(10_000))],
    ])('rejects %s', (_label, build) => {
      expect(() => guardAuthenticatorData(build())).toThrow(
        expect.objectContaining({ code: 'verification_failed', reason: 'malformed_authenticator_data' }),
      );
    });
  });
});
