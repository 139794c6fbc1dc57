import { createPassgate, type Passgate, silentLogger } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores } from '../src/index.js';
import { connect, countingRedis, deleteKeys, randomPrefix } from './helpers.js';

/**
 * `login/options` must cost an unknown username the same Redis round trips as a known one, or its
 * timing tells which usernames exist (contract 1.1, issue 12 finding 4). Counted without MONITOR:
 * the application's client is wrapped, and every command sent on its own, or every pipeline sent,
 * is one round trip.
 */

const prefix = randomPrefix('round-trips');
let admin: Redis;
/** What the application's client sent, one entry per round trip. */
const trips: string[] = [];

let passgate: Passgate;
let client: Redis;

beforeAll(async () => {
  admin = connect();
  client = connect();
  const stores = createRedisStores({ client: countingRedis(client, trips), prefix });
  passgate = createPassgate({
    rp: { name: 'round trips', id: 'example.test', origins: ['https://example.test'] },
    stores,
    secret: 'round-trip-test-secret-0123456789abcdef',
    logger: silentLogger,
    rateLimits: { perIp: false, accountFailures: false },
  });
  // Load the scripts (EVALSHA's NOSCRIPT fallback would add a round trip to the first call only).
  for (const username of ['warm-up-a', 'warm-up-b']) await passgate.startAuthentication({ username });
  const three = makeSignUp({ username: 'three-passkeys' });
  await stores.accounts.create(three.account, three.credential);
  for (let i = 0; i < 2; i++) {
    await stores.credentials.create(makeCredential({ userHandle: three.account.userHandle }));
  }
  const one = makeSignUp({ username: 'one-passkey' });
  await stores.accounts.create(one.account, one.credential);
  const none = makeSignUp({ username: 'no-passkeys' });
  await stores.accounts.create(none.account, none.credential);
  await stores.credentials.delete(none.account.userHandle, none.credential.id, { allowLast: true });
});

afterAll(async () => {
  await deleteKeys(admin, prefix);
  admin.disconnect();
  client.disconnect();
});

async function roundTrips(username: string): Promise<number> {
  trips.length = 0;
  await passgate.startAuthentication({ username });
  return trips.length;
}

describe('login/options round trips on Redis', () => {
  it('are the same for an unknown username as for known ones (with 3, 1 or no passkeys)', async () => {
    const counts = {
      threePasskeys: await roundTrips('three-passkeys'),
      onePasskey: await roundTrips('one-passkey'),
      noPasskeys: await roundTrips('no-passkeys'),
      unknown: await roundTrips('nobody-by-this-name'),
      anotherUnknown: await roundTrips('ghost-42'),
    };
    // The account by username with its credentials (`stores.signIn`), then the ceremony (issue 14).
    expect(counts.threePasskeys).toBe(2);
    for (const count of Object.values(counts)) expect(count).toBe(counts.threePasskeys);
  });
});
