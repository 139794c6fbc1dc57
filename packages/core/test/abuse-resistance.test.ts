import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECOY_TRANSPORTS, decoyCredentials } from '../src/decoys.js';
import { clientKey } from '../src/rate-limits.js';
import { SECRET } from './helpers.js';

describe('per-IP bucket keys', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:ffff:1:2:3', '2001:db8:0:0::/64'],
    ['2001:0DB8:0000:0001::', '2001:db8:0:1::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('puts every address of one IPv6 /64 in one bucket, and other /64s in others', () => {
    const a = new Set(
      ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:1234::'].map(clientKey),
    );
    expect(a.size).toBe(1);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });

  it('keeps requests without an address in one bucket', () => {
    expect(clientKey(undefined)).toBe('unknown');
    expect(clientKey('')).toBe('unknown');
  });
});

describe('decoy allowCredentials', () => {
  const secret = new TextEncoder().encode(SECRET);
  const key = (transports: readonly string[]) => transports.join(',');
  const REAL_TRANSPORT_SETS = DECOY_TRANSPORTS.map(([, transports]) => key(transports));

  it('have a realistic shape for every username: 1..25 entries, distinct ids of 16..64 bytes, browser transports', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }), (username) => {
        const decoys = decoyCredentials(secret, username);
        expect(decoys.length).toBeGreaterThanOrEqual(1);
        expect(decoys.length).toBeLessThanOrEqual(25);
        expect(new Set(decoys.map((d) => d.id)).size).toBe(decoys.length);
        for (const decoy of decoys) {
          const bytes = Buffer.from(decoy.id, 'base64url');
          expect(bytes.toString('base64url')).toBe(decoy.id);
          expect(bytes.length).toBeGreaterThanOrEqual(16);
          expect(bytes.length).toBeLessThanOrEqual(64);
          expect(REAL_TRANSPORT_SETS).toContain(key(decoy.transports));
        }
        // Deterministic per username: the same list on every call.
        expect(decoyCredentials(secret, username)).toEqual(decoys);
      }),
      { numRuns: 500 },
    );
  });

  it('never list more entries than the account cap allows', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 40 }),
        (name, cap) => {
          expect(decoyCredentials(secret, name, cap).length).toBeLessThanOrEqual(cap);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cover the shapes of real lists over many usernames: every count 1..25, every id length 16..64, every transport set incl. []', () => {
    const counts = new Set<number>();
    const lengths = new Set<number>();
    const transports = new Set<string>();
    const usernames = fc.sample(fc.string({ minLength: 1, maxLength: 64 }), { numRuns: 4000, seed: 42 });
    for (const username of usernames) {
      const decoys = decoyCredentials(secret, username);
      counts.add(decoys.length);
      for (const d of decoys) {
        lengths.add(Buffer.from(d.id, 'base64url').length);
        transports.add(key(d.transports));
      }
    }
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect([...lengths].sort((a, b) => a - b)).toEqual(Array.from({ length: 49 }, (_, i) => i + 16));
    expect([...transports].sort()).toEqual([...REAL_TRANSPORT_SETS].sort());
    expect(transports.has('')).toBe(true);
  });

  it('most lists are short, as most people have one to three passkeys', () => {
    const usernames = fc.sample(fc.string({ minLength: 1, maxLength: 64 }), { numRuns: 2000, seed: 7 });
    const short = usernames.filter((u) => decoyCredentials(secret, u).length <= 3).length;
    expect(short / usernames.length).toBeGreaterThan(0.8);
    expect(short / usernames.length).toBeLessThan(0.98);
  });
});

describe('usernames after normalisation', () => {
  it('a custom normalizeUsername that yields a control character is refused as invalid_request', async () => {
    const { makePassgate, failure } = await import('./helpers.js');
    const h = makePassgate({ normalizeUsername: (u) => `${u}\u0000` });
    expect(await failure(h.passgate.startAuthentication({ username: 'alice' }))).toMatchObject({
      code: 'invalid_request',
      field: 'username',
    });
    expect(await failure(h.passgate.startRegistration({ session: null, username: 'alice' }))).toMatchObject({
      code: 'invalid_request',
      field: 'username',
    });
  });
});
