import { makeSignUp } from '@passgate/testing/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlStores, dropTables, migrate } from '../src/index.js';
import { newPool, randomPrefix } from './helpers.js';

const pool = newPool({ connectionLimit: 4 });
const tablePrefix = randomPrefix('mig');

afterAll(async () => {
  await dropTables({ pool, tablePrefix });
  await pool.end();
});

describe('migrate', () => {
  it('adds the source column to an accounts table made before it; rows from before read back without one', async () => {
    // The accounts table as the example first created it (no source column).
    await pool.query(`CREATE TABLE \`${tablePrefix}accounts\` (
      user_handle VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
      user_id VARBINARY(1024) NOT NULL,
      username VARBINARY(256) NOT NULL,
      display_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      created_at BIGINT NOT NULL,
      UNIQUE KEY user_id (user_id),
      UNIQUE KEY username (username)
    ) ENGINE=InnoDB`);
    const before = makeSignUp().account;
    await pool.query(
      `INSERT INTO \`${tablePrefix}accounts\` (user_handle, user_id, username, display_name, created_at) VALUES (?, ?, ?, ?, ?)`,
      [before.userHandle, before.userId, before.username, before.displayName, before.createdAt.getTime()],
    );

    // Twice, and twice at once: the column is added once, and a second run finds it.
    await Promise.all([migrate({ pool, tablePrefix }), migrate({ pool, tablePrefix })]);
    await migrate({ pool, tablePrefix });

    const stores = createMysqlStores({ pool, tablePrefix });
    expect(await stores.accounts.findByUserId(before.userId)).toEqual(before);
    const linked = makeSignUp({ source: 'application' });
    await stores.accounts.create(linked.account, linked.credential);
    expect(await stores.accounts.findByUserId(linked.account.userId)).toEqual(linked.account);
  });
});
