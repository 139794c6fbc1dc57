import { ceremonyCookie, clearCeremonyCookie, createContractHandler } from '@passgate/core/http';
import { serialize } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makePassgate, ORIGIN } from './helpers.js';

/** The ceremony cookies are kept as strings per options; they must stay what `cookie.serialize` makes. */
describe('ceremony cookie strings', () => {
  const options = fc.record({
    name: fc.constantFrom('passgate_ceremony', 'pg', 'c-1', '__Host-x'),
    path: fc.constantFrom('/', '/passkeys', '/auth/passkeys', '/a/b/c'),
    secure: fc.boolean(),
  });
  const values = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    fc.string({ maxLength: 8 }),
    fc.constant('a;b =c'),
  );

  it('equal what cookie.serialize makes, for any options, value and lifetime, in any order', () => {
    fc.assert(
      fc.property(options, values, fc.double({ min: 0, max: 7200, noNaN: true }), (o, value, seconds) => {
        expect(ceremonyCookie(o, value, seconds)).toBe(
          serialize(o.name, value, {
            httpOnly: true,
            sameSite: 'strict',
            path: o.path,
            secure: o.secure,
            maxAge: Math.max(1, Math.ceil(seconds)),
          }),
        );
        expect(clearCeremonyCookie(o)).toBe(
          serialize(o.name, '', {
            httpOnly: true,
            sameSite: 'strict',
            path: o.path,
            secure: o.secure,
            maxAge: 0,
            expires: new Date(0),
          }),
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('still refuses what cookie.serialize refuses (a name or path it cannot write)', () => {
    expect(() => ceremonyCookie({ name: 'bad name', path: '/', secure: false }, 'v', 60)).toThrow();
    expect(() => clearCeremonyCookie({ name: 'ok', path: '/a;b', secure: false })).toThrow();
  });
});

describe('the ceremony cookie on https', () => {
  it("is Secure when the request came over https (secureCookies: 'auto'), and only then", async () => {
    const handler = createContractHandler(makePassgate().passgate);
    const request = (path: string, protocol: 'http' | 'https') =>
      handler.handle({
        method: 'POST',
        path,
        headers: { origin: ORIGIN, host: new URL(ORIGIN).host, 'content-type': 'application/json' },
        protocol,
        body: { kind: 'parsed', value: {} },
        session: null,
      });
    const options = await request('/login/options', 'https');
    expect(options?.status).toBe(200);
    expect(options?.cookies).toEqual([expect.stringMatching(/^passgate_ceremony=[^;]+;.*; Secure/)]);
    const plain = await request('/login/options', 'http');
    expect(plain?.cookies).toEqual([expect.not.stringContaining('Secure')]);
  });
});
