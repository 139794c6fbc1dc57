import type { Pool } from 'mysql2/promise';

/** The table names of one installation: `<prefix>challenges`, `<prefix>credentials`, `<prefix>accounts`. */
export interface Tables {
  challenges: string;
  credentials: string;
  accounts: string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,39}$/;

export function tableNames(prefix = 'passgate_'): Tables {
  if (!PREFIX.test(prefix)) {
    throw new RangeError('tablePrefix must be lower-case letters, digits and _, starting with a letter');
  }
  return {
    challenges: `\`${prefix}challenges\``,
    credentials: `\`${prefix}credentials\``,
    accounts: `\`${prefix}accounts\``,
  };
}

/**
 * The tables, created if missing. Column choices that the contract needs (docs/custom-adapters.md):
 * - Ids and user handles as `ascii_bin` text: compared byte for byte over their full length (no
 *   prefix index), and sorted in base64url's code-unit order for the listing's ties.
 * - Usernames and user ids as `VARBINARY`: exact comparison (no case or accent folding, no trailing
 *   space padding, which every `utf8mb4` collation of MariaDB applies to unique indexes).
 * - Other text in `utf8mb4` (emoji and all), kept exactly.
 * - Times as epoch milliseconds in `BIGINT`: exact, and free of the session's time zone. Challenge
 *   expiry in `DATETIME(3)` computed by the server from `UTC_TIMESTAMP(3)`: the store's clock.
 */
export async function migrate(options: { pool: Pool; tablePrefix?: string }): Promise<void> {
  const t = tableNames(options.tablePrefix);
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${t.challenges} (
      id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
      value MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      KEY expires_at (expires_at)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS ${t.accounts} (
      user_handle VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
      user_id VARBINARY(1024) NOT NULL,
      username VARBINARY(256) NOT NULL,
      display_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      created_at BIGINT NOT NULL,
      UNIQUE KEY user_id (user_id),
      UNIQUE KEY username (username)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS ${t.credentials} (
      id VARCHAR(1400) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
      user_handle VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      public_key BLOB NOT NULL,
      algorithm INT NOT NULL,
      counter INT UNSIGNED NOT NULL,
      transports VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      backup_eligible BOOLEAN NOT NULL,
      backed_up BOOLEAN NOT NULL,
      aaguid CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      attestation_format VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      nickname VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
      created_at BIGINT NOT NULL,
      last_used_at BIGINT NULL,
      KEY user_handle (user_handle, created_at)
    ) ENGINE=InnoDB`,
  ];
  for (const sql of statements) await options.pool.query(sql);
}

/** Drops this installation's tables (tests). */
export async function dropTables(options: { pool: Pool; tablePrefix?: string }): Promise<void> {
  const t = tableNames(options.tablePrefix);
  await options.pool.query(`DROP TABLE IF EXISTS ${t.challenges}, ${t.credentials}, ${t.accounts}`);
}
