import { randomBytes } from 'node:crypto';
import { isPassgateError } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStores } from '../src/index.js';
import { migratedSchemaForFile, newPool } from './helpers.js';

/**
 * `credentials.create(c, { maxPerAccount })` keeps the cap whatever the role's default isolation
 * level. Its transaction locks the account row, then counts the account's passkeys and inserts. Under
 * REPEATABLE READ the snapshot used to date from the first statement, taken before the lock was
 * granted, so a waiter counted without the passkey its lock holder had just committed: 6 to 10 of 10
 * concurrent adds at cap - 1 went through. The adapter's transactions now begin at READ COMMITTED
 * (pool.ts, runTransaction), where the count after the lock sees every committed add.
 */

const LEVELS = ['read committed', 'repeatable read', 'serializable'] as const;

const { schema, stores: setup } = migratedSchemaForFile('isocap', { max: 4 });
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

describe('maxPerAccount under the role default isolation level', () => {
  for (const level of LEVELS) {
    it(`keeps an account at the cap when 10 adds race at cap - 1 (${level})`, async () => {
      const pool = newPool({
        max: 10,
        options: `-c default_transaction_isolation=${level.replaceAll(' ', '\\ ')}`,
      });
      pools.push(pool);
      const stores = createPostgresStores({ pool, schema });
      const cap = 4;
      for (let round = 0; round < 4; round++) {
        const { account, credential } = makeSignUp({ username: `cap-${randomBytes(6).toString('hex')}` });
        await setup.accounts.create(account, credential);
        for (let i = 0; i < cap - 2; i++) {
          await setup.credentials.create(makeCredential({ userHandle: account.userHandle }));
        }
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () =>
            stores.credentials.create(makeCredential({ userHandle: account.userHandle }), {
              maxPerAccount: cap,
            }),
          ),
        );
        // One add fits; the others are refused for the cap, not for a serialization failure.
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(isPassgateError(result.reason, 'too_many_credentials'), String(result.reason)).toBe(true);
          }
        }
        const held = await setup.credentials.listByUserHandle(account.userHandle);
        expect(held.length, `round ${round}: ${held.length} credentials, cap ${cap}`).toBe(cap);
      }
    });
  }
});
