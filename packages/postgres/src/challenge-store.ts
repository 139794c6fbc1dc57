import type { ChallengeStore } from '@passgate/core';
import { type Db, type Statement, statement } from './pool.js';
import type { SqlNames } from './sql.js';

/** The `DELETE … RETURNING value` that consumes a pending, unexpired ceremony (`$1`: its id). */
export function consumeChallengeSql(n: SqlNames): string {
  return `DELETE FROM ${n.challenges} WHERE id = $1 AND expires_at > now() RETURNING value`;
}

/** Pending ceremonies. Expiry is decided by the database clock (`now()`), never the app's. */
export class PostgresChallengeStore implements ChallengeStore {
  private readonly sql: { put: Statement; consume: Statement; deleteExpired: Statement };

  constructor(
    private readonly db: Db,
    n: SqlNames,
  ) {
    this.sql = {
      // Insert, or take over the row only when it has expired: a pending ceremony is never overwritten.
      // RETURNING yields a row exactly when this statement stored the value.
      put: statement(
        `INSERT INTO ${n.challenges} AS c (id, value, expires_at)
       VALUES ($1, $2, now() + $3::double precision * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
         WHERE c.expires_at <= now()
       RETURNING 1`,
      ),
      consume: statement(consumeChallengeSql(n)),
      deleteExpired: statement(`DELETE FROM ${n.challenges} WHERE expires_at <= now()`),
    };
  }

  async put(id: string, value: string, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
      throw new RangeError('passgate: ttlMs must be a positive integer');
    const res = await this.db.query(this.sql.put, [id, value, ttlMs]);
    return res.rowCount === 1;
  }

  async consume(id: string): Promise<string | null> {
    const res = await this.db.query<{ value: string }>(this.sql.consume, [id]);
    return res.rows[0]?.value ?? null;
  }

  /** Deletes every expired challenge; resolves how many went. */
  async deleteExpired(): Promise<number> {
    const res = await this.db.query(this.sql.deleteExpired, []);
    return res.rowCount ?? 0;
  }
}
