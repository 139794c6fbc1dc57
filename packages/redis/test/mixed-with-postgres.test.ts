import { randomBytes } from 'node:crypto';
import {
  authenticationResponseSchema,
  createPassgate,
  type PassgateStores,
  parseBody,
  registrationResponseSchema,
} from '@passgate/core';
import { createPostgresStores, migrate, type PostgresStores } from '@passgate/postgres';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describeStorageAdapter } from '@passgate/testing/conformance';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores } from '../src/index.js';
import { connect, deleteKeys, randomPrefix, scanKeys } from './helpers.js';

// The README's recommended production mix: challenges in Redis, credentials and accounts in PostgreSQL.

const DATABASE_URL = process.env['PASSGATE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const ORIGIN = 'https://app.example.com';
const RP_ID = 'app.example.com';

interface Mix {
  client: Redis;
  pool: pg.Pool;
  prefix: string;
  schema: string;
  redis: RedisStores;
  postgres: PostgresStores;
  stores: PassgateStores;
  teardown(): Promise<void>;
}

async function createMix(label: string): Promise<Mix> {
  const client = connect();
  // The conformance suite's race tests run 50 callers at once: give the pool room for them.
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
  pool.on('error', () => {});
  const prefix = randomPrefix(label);
  const schema = `pgt_${label}_${randomBytes(6).toString('hex')}`;
  await migrate({ pool, schema });
  const redis = createRedisStores({ client, prefix });
  const postgres = createPostgresStores({ pool, schema });
  return {
    client,
    pool,
    prefix,
    schema,
    redis,
    postgres,
    stores: { challenges: redis.challenges, credentials: postgres.credentials, accounts: postgres.accounts },
    async teardown() {
      await deleteKeys(client, prefix);
      client.disconnect();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

describeStorageAdapter(
  'redis challenges + postgres credentials',
  async () => {
    const mix = await createMix('mixconf');
    return { stores: mix.stores, teardown: () => mix.teardown() };
  },
  { renaming: true },
);

describe('a Passgate on redis challenges + postgres credentials', () => {
  let mix: Mix;

  beforeAll(async () => {
    mix = await createMix('mixflow');
  });

  afterAll(async () => {
    await mix?.teardown();
  });

  it('signs up, signs in, and rejects a replayed sign-in', async () => {
    const passgate = createPassgate({
      rp: { name: 'Passgate mixed-store test', id: RP_ID, origins: [ORIGIN] },
      secret: 'passgate-mixed-store-test-secret-0123456789',
      stores: mix.stores,
    });
    const authenticator = new SoftwareAuthenticator();
    const username = `alice-${mix.prefix.slice(-13, -1)}`;

    // Sign-up: the pending ceremony is a Redis key, the account and passkey rows in PostgreSQL.
    const registration = await passgate.startRegistration({ session: null, username });
    expect(await scanKeys(mix.client, mix.prefix)).toEqual([`${mix.prefix}ch:${registration.ceremonyId}`]);
    const created = await authenticator.createCredential(registration.options, { origin: ORIGIN });
    const signedUp = await passgate.finishRegistration({
      ceremonyId: registration.ceremonyId,
      response: parseBody(registrationResponseSchema, created),
      session: null,
    });
    expect(signedUp).toMatchObject({ signedUp: true, user: { name: username } });
    expect(await mix.postgres.credentials.findById(created.id)).toMatchObject({ id: created.id, counter: 0 });
    expect(await mix.postgres.accounts.findByUsername(username)).toMatchObject({ userId: signedUp.user.id });
    // Nothing but challenges ever goes to Redis, and the consumed one is gone.
    expect(await mix.redis.credentials.findById(created.id)).toBeNull();
    expect(await scanKeys(mix.client, mix.prefix)).toEqual([]);

    // Sign-in (usernameless): the counter update lands in PostgreSQL.
    const authentication = await passgate.startAuthentication({});
    const assertion = parseBody(
      authenticationResponseSchema,
      await authenticator.getAssertion(authentication.options, { origin: ORIGIN }),
    );
    const signedIn = await passgate.finishAuthentication({
      ceremonyId: authentication.ceremonyId,
      response: assertion,
    });
    expect(signedIn.user.id).toBe(signedUp.user.id);
    expect(signedIn.session.credentialId).toBe(created.id);
    expect(await mix.postgres.credentials.findById(created.id)).toMatchObject({ counter: 1 });
    expect(await scanKeys(mix.client, mix.prefix)).toEqual([]);

    // Replay of the same ceremony and assertion: the Redis challenge was consumed.
    await expect(
      passgate.finishAuthentication({ ceremonyId: authentication.ceremonyId, response: assertion }),
    ).rejects.toMatchObject({ code: 'ceremony_expired' });
    expect(await mix.postgres.credentials.findById(created.id)).toMatchObject({ counter: 1 });
  });
});
