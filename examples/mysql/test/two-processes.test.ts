import { describeSharedStoreAcrossProcesses } from '@passgate/testing/contract';
import { expect } from 'vitest';
import { dropTables, migrate } from '../src/index.js';
import { MYSQL_URL, newPool, randomPrefix } from './helpers.js';

// Two OS processes (two "instances of the app") share one MariaDB database. The children import the
// BUILT adapter (`dist/`, via fixtures/stores.mjs), as an application would: run `pnpm build` first.

const tablePrefix = randomPrefix('2proc');
const pool = newPool();

describeSharedStoreAcrossProcesses('MySQL/MariaDB (one database)', {
  storesModule: new URL('./fixtures/stores.mjs', import.meta.url),
  env: { PASSGATE_TEST_MYSQL_URL: MYSQL_URL, PASSGATE_TABLE_PREFIX: tablePrefix },
  setup: () => migrate({ pool, tablePrefix }),
  expectCredentialStored: async (credentialId) => {
    const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM \`${tablePrefix}credentials\` WHERE id = ?`, [
      credentialId,
    ]);
    expect(Number((rows as { n: number }[])[0]?.n)).toBe(1);
  },
  teardown: async () => {
    try {
      await dropTables({ pool, tablePrefix });
    } finally {
      await pool.end();
    }
  },
});
