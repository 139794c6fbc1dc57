import { describe, expect, it } from 'vitest';
import { decoyCredentials } from '../src/decoys.js';
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
  const realistic = [['hybrid', 'internal'], ['internal'], ['usb'], ['nfc', 'usb']].map((t) => t.join(','));

  it('use the transports real authenticators report, and vary them across usernames', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      for (const decoy of decoyCredentials(secret, `user-${i}`)) {
        expect(realistic).toContain(decoy.transports.join(','));
        seen.add(decoy.transports.join(','));
      }
    }
    expect([...seen].sort()).toEqual([...realistic].sort());
  });

  it('vary in count (1..3) and id length (16..64 bytes) across usernames', () => {
    const counts = new Set<number>();
    const lengths = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const decoys = decoyCredentials(secret, `user-${i}`);
      counts.add(decoys.length);
      for (const d of decoys) lengths.add(Buffer.from(d.id, 'base64url').length);
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
    expect(Math.min(...lengths)).toBe(16);
    expect(Math.max(...lengths)).toBe(64);
    expect(lengths.size).toBeGreaterThanOrEqual(4);
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
