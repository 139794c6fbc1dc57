import type { ChallengeStore } from '@passgate/core';
import { rerunRefused, TickBatcher, textKey } from './batch.js';
import { type Db, type Statement, statement } from './pool.js';
import type { SqlNames } from './sql.js';

/** The `DELETE … RETURNING value` that consumes a pending, unexpired ceremony (`$1`: its id). */
export function consumeChallengeSql(n: SqlNames): string {
  return `DELETE FROM ${n.challenges} WHERE id = $1 AND expires_at > now() RETURNING value`;
}

/** Pending ceremonies. Expiry is decided by the database clock (`now()`), never the app's. */
export class PostgresChallengeStore implements ChallengeStore {
  private readonly sql: { put: Statement; putMany: Statement; consume: Statement; deleteExpired: Statement };
  private readonly puts: TickBatcher<PutCall, boolean>;

  constructor(
    private readonly db: Db,
    n: SqlNames,
    /** Most puts per statement (see `batchStatements`); 0: one statement per put. */
    maxBatch = 0,
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
      // The same, for several distinct ids at once: the ids it stored come back.
      putMany: statement(
        `INSERT INTO ${n.challenges} AS c (id, value, expires_at)
       SELECT r.id, r.value, now() + r.ttl * interval '1 millisecond'
         FROM unnest($1::text[], $2::text[], $3::double precision[]) AS r(id, value, ttl)
       ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
         WHERE c.expires_at <= now()
       RETURNING c.id`,
      ),
      consume: statement(consumeChallengeSql(n)),
      deleteExpired: statement(`DELETE FROM ${n.challenges} WHERE expires_at <= now()`),
    };
    this.puts = new TickBatcher<PutCall, boolean>(
      {
        keyOf: (call) => textKey(call.id),
        one: (call) => this.putOne(call),
        many: (calls) => this.putMany(calls),
        rerunAlone: rerunRefused,
      },
      maxBatch,
    );
  }

  async put(id: string, value: string, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
      throw new RangeError('passgate: ttlMs must be a positive integer');
    const call = { id, value, ttlMs };
    return this.puts.run(call);
  }

  private async putOne({ id, value, ttlMs }: PutCall): Promise<boolean> {
    const res = await this.db.query(this.sql.put, [id, value, ttlMs]);
    return res.rowCount === 1;
  }

  private async putMany(calls: readonly PutCall[]): Promise<boolean[]> {
    const res = await this.db.query<{ id: string }>(this.sql.putMany, [
      calls.map((call) => call.id),
      calls.map((call) => call.value),
      calls.map((call) => call.ttlMs),
    ]);
    const stored = new Set(res.rows.map((row) => row.id));
    return calls.map((call) => stored.has(textKey(call.id)));
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

interface PutCall {
  id: string;
  value: string;
  ttlMs: number;
}
