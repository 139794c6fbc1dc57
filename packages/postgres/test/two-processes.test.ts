import { describeSharedStoreAcrossProcesses } from '@passgate/testing/contract';
import { expect } from 'vitest';
import { migrate } from '../src/index.js';
import { DATABASE_URL, dropSchema, newPool, randomSchema } from './helpers.js';

// Two OS processes (two "instances of the app") share one PostgreSQL schema. The children import the
// BUILT adapter (`dist/`, via fixtures/stores.mjs), as an application would: run `pnpm build` first.

const schema = randomSchema('2proc');
const pool = newPool();

describeSharedStoreAcrossProcesses('PostgreSQL (one schema)', {
  storesModule: new URL('./fixtures/stores.mjs', import.meta.url),
  env: { PASSGATE_TEST_DATABASE_URL: DATABASE_URL, PASSGATE_SCHEMA: schema },
  setup: () => migrate({ pool, schema }),
  expectCredentialStored: async (credentialId) => {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".passgate_credentials WHERE id = $1`,
      [Buffer.from(credentialId, 'base64url')],
    );
    expect(rows[0].n).toBe(1);
  },
  teardown: async () => {
    try {
      await dropSchema(pool, schema);
    } finally {
      await pool.end();
    }
  },
});
