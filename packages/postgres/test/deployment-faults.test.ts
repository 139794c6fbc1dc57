import { createPassgate, isPassgateError, type PassgateLogger } from '@passgate/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores } from '../src/index.js';
import { newPool, randomSchema } from './helpers.js';

/**
 * A store error that is not an outage (contract 1.1): tables that were never migrated are a
 * deployment fault, answered `internal_error` (500) and logged, never `store_unavailable` (503,
 * "try again"), which would hide the fault behind an outage.
 */
let pool: pg.Pool;
beforeAll(() => {
  pool = newPool();
});
afterAll(async () => {
  await pool.end();
});

describe('PostgreSQL errors that are not outages', () => {
  it('a missing table: internal_error (500), logged with the operation', async () => {
    const logged: Record<string, unknown>[] = [];
    const logger: PassgateLogger = {
      debug() {},
      info() {},
      warn() {},
      error: (_message, fields) => void logged.push(fields ?? {}),
    };
    const passgate = createPassgate({
      rp: { name: 'faults', id: 'example.test', origins: ['https://example.test'] },
      // A schema nobody migrated: every statement fails with 42P01 (undefined_table).
      stores: createPostgresStores({ pool, schema: randomSchema('unmigrated') }),
      secret: 'deployment-fault-test-secret-0123456789',
      logger,
    });
    let error: unknown;
    try {
      await passgate.startAuthentication({ username: 'alice' });
    } catch (caught) {
      error = caught;
    }
    expect(isPassgateError(error) && { code: error.code, status: error.status }).toEqual({
      code: 'internal_error',
      status: 500,
    });
    expect(logged[0]).toMatchObject({
      operation: 'signIn.findForSignIn',
      error: expect.stringMatching(/does not exist/),
    });
  });
});
