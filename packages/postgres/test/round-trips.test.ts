import { createPassgate, type Passgate, silentLogger } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate, type PostgresClient, type PostgresPool } from '../src/index.js';
import { dropSchema, newPool, randomSchema } from './helpers.js';

/**
 * `login/options` must cost an unknown username the same PostgreSQL statements as a known one, or
 * its timing tells which usernames exist (contract 1.1, issue 12 finding 4). Counted by wrapping
 * the pool: every statement sent, on the pool or on a checked-out client, is one round trip.
 */

const schema = randomSchema('trips');
let pool: pg.Pool;
let statements = 0;
let passgate: Passgate;

function counting(inner: pg.Pool): PostgresPool {
  return {
    query: ((text: string, values?: unknown[]) => {
      statements++;
      return inner.query(text, values);
    }) as PostgresPool['query'],
    async connect() {
      const client = await inner.connect();
      const wrapped: PostgresClient = {
        query: ((text: string, values?: unknown[]) => {
          statements++;
          return client.query(text, values);
        }) as PostgresClient['query'],
        release: (err) => client.release(err),
        on: (event, listener) => client.on(event, listener),
        removeListener: (event, listener) => client.removeListener(event, listener),
      };
      return wrapped;
    },
  };
}

beforeAll(async () => {
  pool = newPool();
  await migrate({ pool, schema });
  const stores = createPostgresStores({ pool: counting(pool), schema });
  passgate = createPassgate({
    rp: { name: 'round trips', id: 'example.test', origins: ['https://example.test'] },
    stores,
    secret: 'round-trip-test-secret-0123456789abcdef',
    logger: silentLogger,
    rateLimits: { perIp: false, accountFailures: false },
  });
  const three = makeSignUp({ username: 'three-passkeys' });
  await stores.accounts.create(three.account, three.credential);
  for (let i = 0; i < 2; i++) {
    await stores.credentials.create(makeCredential({ userHandle: three.account.userHandle }));
  }
  const none = makeSignUp({ username: 'no-passkeys' });
  await stores.accounts.create(none.account, none.credential);
  await stores.credentials.delete(none.account.userHandle, none.credential.id, { allowLast: true });
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

async function roundTrips(username: string): Promise<number> {
  statements = 0;
  await passgate.startAuthentication({ username });
  return statements;
}

describe('login/options round trips on PostgreSQL', () => {
  it('are the same for an unknown username as for known ones (with 3 or no passkeys)', async () => {
    const counts = {
      threePasskeys: await roundTrips('three-passkeys'),
      noPasskeys: await roundTrips('no-passkeys'),
      unknown: await roundTrips('nobody-by-this-name'),
    };
    // The account by username with its credentials (`stores.signIn`), then the ceremony (issue 14).
    expect(counts.threePasskeys).toBe(2);
    for (const count of Object.values(counts)) expect(count).toBe(counts.threePasskeys);
  });
});
