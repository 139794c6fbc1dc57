import { Redis } from 'ioredis';
import pg from 'pg';

export interface DemoDataLocation {
  /** With `redisPrefix`: every key starting with it is deleted. */
  redisUrl?: string;
  redisPrefix?: string;
  /** With `tablePrefix`: every table of the `public` schema whose name starts with it is dropped. */
  databaseUrl?: string;
  tablePrefix?: string;
}

/**
 * Removes what demos started with these prefixes left in Redis and PostgreSQL (tests on the shared
 * services use a random prefix per run and call this afterwards). Only keys and tables under the
 * prefixes; a prefix that is not given is left alone. Opens and closes its own connections.
 */
export async function removeDemoData(where: DemoDataLocation): Promise<void> {
  const { redisUrl, redisPrefix, databaseUrl, tablePrefix } = where;
  if (redisUrl && redisPrefix) {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
  if (databaseUrl && tablePrefix) {
    const pool = new pg.Pool({ connectionString: databaseUrl });
    try {
      const { rows } = await pool.query<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND starts_with(tablename, $1)`,
        [tablePrefix],
      );
      for (const { tablename } of rows) {
        await pool.query(`DROP TABLE IF EXISTS "${tablename.replace(/"/g, '""')}" CASCADE`);
      }
    } finally {
      await pool.end();
    }
  }
}
