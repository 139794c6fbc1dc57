import { randomBytes } from 'node:crypto';
import mysql, { type Pool, type PoolOptions } from 'mysql2/promise';

/** The test server: MariaDB on this machine (root, no password, database `test`) unless MYSQL_URL says otherwise. */
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function newPool(options: PoolOptions = {}): Pool {
  return mysql.createPool({ uri: MYSQL_URL, connectionLimit: 20, connectTimeout: 2000, ...options });
}

/** A table prefix of its own for each test file and run, so runs can go in parallel. */
export function randomPrefix(label: string): string {
  return `t_${label}_${randomBytes(5).toString('hex')}_`;
}
