import type { PassgateStores } from '@passgate/core';
import type { Pool } from 'mysql2/promise';
import { MysqlAccountRepository } from './account-repository.js';
import { MysqlChallengeStore } from './challenge-store.js';
import { MysqlCredentialRepository } from './credential-repository.js';
import { Db } from './db.js';
import { tableNames } from './schema.js';

export { isOutage } from './errors.js';
export { dropTables, migrate } from './schema.js';

export interface MysqlStoresOptions {
  /**
   * A `mysql2/promise` pool. Give it a `connectTimeout` (mysql2's default is 10 s): an unreachable
   * server fails each call after that long, with `store_unavailable`.
   */
  pool: Pool;
  /** Prefix of the three table names. Default `passgate_`. */
  tablePrefix?: string;
  /** Longest a statement may run before the call fails with `store_unavailable`, ms. Default 5000. */
  queryTimeoutMs?: number;
}

export interface MysqlStores extends PassgateStores {
  challenges: MysqlChallengeStore;
  /** Deletes expired challenges; resolves how many (run it now and then, e.g. hourly). */
  deleteExpiredChallenges(): Promise<number>;
}

/** Passgate's three stores on MySQL 8 / MariaDB 10.6+ (InnoDB), over one mysql2 pool. Run `migrate` first. */
export function createMysqlStores(options: MysqlStoresOptions): MysqlStores {
  const tables = tableNames(options.tablePrefix);
  const db = new Db(options.pool, options.queryTimeoutMs ?? 5000);
  const challenges = new MysqlChallengeStore(db, tables);
  return {
    challenges,
    credentials: new MysqlCredentialRepository(db, tables),
    accounts: new MysqlAccountRepository(db, tables),
    deleteExpiredChallenges: () => challenges.deleteExpired(),
  };
}
