import type { ChallengeStore } from '@passgate/core';
import type { Db } from './db.js';
import { isDuplicateKey } from './errors.js';
import type { Tables } from './schema.js';

/**
 * Challenges in one table. Expiry is the server's `UTC_TIMESTAMP(3)`, never the application's clock;
 * expired rows are deleted lazily (on `put` of the same id, and by `deleteExpiredChallenges`), so
 * every read checks `expires_at` itself.
 */
export class MysqlChallengeStore implements ChallengeStore {
  constructor(
    private readonly db: Db,
    private readonly t: Tables,
  ) {}

  async put(id: string, value: string, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError('ttlMs must be a positive integer');
    // An expired row does not make the id pending: remove it, then insert. The primary key decides
    // between concurrent puts: exactly one insert succeeds.
    await this.db.run(`DELETE FROM ${this.t.challenges} WHERE id = ? AND expires_at <= UTC_TIMESTAMP(3)`, [
      id,
    ]);
    try {
      await this.db.run(
        `INSERT INTO ${this.t.challenges} (id, value, expires_at)
         VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)`,
        [id, value, ttlMs * 1000],
      );
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  consume(id: string): Promise<string | null> {
    // Read and delete under the row lock, so of concurrent consumers exactly one sees the row.
    return this.db.transaction(async (tx) => {
      const [row] = await tx.rows(
        `SELECT value, expires_at > UTC_TIMESTAMP(3) AS live FROM ${this.t.challenges} WHERE id = ? FOR UPDATE`,
        [id],
      );
      if (row === undefined) return null;
      await tx.run(`DELETE FROM ${this.t.challenges} WHERE id = ?`, [id]);
      return Number(row.live) === 1 ? String(row.value) : null;
    });
  }

  /** Deletes expired challenges (run it now and then; reads never depend on it). Resolves how many. */
  deleteExpired(): Promise<number> {
    return this.db.run(`DELETE FROM ${this.t.challenges} WHERE expires_at <= UTC_TIMESTAMP(3)`);
  }
}
