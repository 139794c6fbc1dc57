import type { Pool, PoolConnection } from 'mysql2/promise';
import { toStoreError } from './errors.js';

/** A row as mysql2 returns it. */
export type Row = Record<string, unknown>;

/** Runs statements with the adapter's timeout and error mapping; transactions on one connection. */
export class Db {
  constructor(
    private readonly pool: Pool,
    private readonly timeoutMs: number,
  ) {}

  async rows(sql: string, values: unknown[] = []): Promise<Row[]> {
    try {
      const [rows] = await this.pool.query({ sql, values, timeout: this.timeoutMs });
      return rows as Row[];
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async run(sql: string, values: unknown[] = []): Promise<number> {
    try {
      const [result] = await this.pool.query({ sql, values, timeout: this.timeoutMs });
      return (result as { affectedRows: number }).affectedRows;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * Runs `work` in one InnoDB transaction, committed when it resolves and rolled back when it throws.
   * Reads that decide a write use `FOR UPDATE`: they lock the rows and read the latest committed
   * state. READ COMMITTED, so a locking read of a row that does not exist takes no gap lock (under
   * REPEATABLE READ, concurrent inserts into that gap deadlock). A deadlock that InnoDB resolves by
   * rolling this transaction back is retried: nothing of it was written.
   */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(work);
      } catch (error) {
        if (attempt >= DEADLOCK_RETRIES || !isDeadlock(error)) throw toStoreError(error);
      }
    }
  }

  private async attempt<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const connection = await this.pool.getConnection();
    try {
      await connection.query({
        sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
        timeout: this.timeoutMs,
      });
      await connection.query({ sql: 'START TRANSACTION', timeout: this.timeoutMs });
      const result = await work(new Tx(connection, this.timeoutMs));
      await connection.query({ sql: 'COMMIT', timeout: this.timeoutMs });
      connection.release();
      return result;
    } catch (error) {
      // A connection that failed mid-transaction may be broken: drop it rather than reuse it.
      await connection.query({ sql: 'ROLLBACK', timeout: this.timeoutMs }).then(
        () => connection.release(),
        () => connection.destroy(),
      );
      throw error;
    }
  }
}

const DEADLOCK_RETRIES = 5;
const isDeadlock = (error: unknown) =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ER_LOCK_DEADLOCK';

/** Statements inside a transaction (errors are mapped by `Db.transaction`). */
export class Tx {
  constructor(
    private readonly connection: PoolConnection,
    private readonly timeoutMs: number,
  ) {}

  async rows(sql: string, values: unknown[] = []): Promise<Row[]> {
    const [rows] = await this.connection.query({ sql, values, timeout: this.timeoutMs });
    return rows as Row[];
  }

  async run(sql: string, values: unknown[] = []): Promise<number> {
    const [result] = await this.connection.query({ sql, values, timeout: this.timeoutMs });
    return (result as { affectedRows: number }).affectedRows;
  }
}
