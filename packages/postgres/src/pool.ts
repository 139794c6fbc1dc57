import { createHash } from 'node:crypto';
import type { QueryResult, QueryResultRow } from 'pg';
import { isUnavailableError, toStoreError } from './errors.js';

/** A statement run as a named prepared statement: node-postgres's query config with a `name`. */
export interface PostgresQueryConfig {
  /** The prepared statement's name, unique to `text` (see `statement`). */
  name: string;
  text: string;
  values: unknown[];
}

/** The part of a `pg.PoolClient` the adapter uses. */
export interface PostgresClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** Returns the client to its pool; an argument (an `Error` or `true`) destroys it instead. */
  release(err?: Error | boolean): void;
  /**
   * `pg` clients are event emitters: a checked-out client whose connection drops emits `'error'`, which
   * ends the process when nobody listens. The adapter listens for as long as it holds the client.
   */
  on?(event: 'error', listener: (err: Error) => void): unknown;
  removeListener?(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * The part of a `pg.Pool` the adapter uses: a `pg.Pool` fits, and so does any object with the same
 * `query` and `connect` methods. The application owns the pool (creates, sizes and ends it).
 * With `preparedStatements` on (the default), the stores' own statements reach `query` as a
 * `{ name, text, values }` config (as node-postgres takes it); transactions use `(text, values)`.
 */
export interface PostgresPool {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  query<R extends QueryResultRow = QueryResultRow>(config: PostgresQueryConfig): Promise<QueryResult<R>>;
  connect(): Promise<PostgresClient>;
}

/** One of the stores' statements: its SQL and the name it is prepared under. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * A statement named after a hash of its text. node-postgres prepares a named statement once per
 * connection and refuses one name for two texts; with the name derived from the text, stores for
 * different schemas or table prefixes (or versions of this package) can share one pool.
 */
export function statement(text: string): Statement {
  return { name: `passgate_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`, text };
}

/** What `withPreparedQueries` returns: a `query(text, values)` for a library that only calls that. */
export interface PreparedQueryPool {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * `pool.query(text, values)` sent as named prepared statements (named by `statement`, as the stores'
 * own are), for a library that calls only that with a handful of fixed texts, such as
 * connect-pg-simple's session store: PostgreSQL parses and plans each text once per connection
 * instead of on every call (about 60 µs less database CPU per session write, measured). Each distinct
 * text becomes a prepared statement on every connection, so only for fixed texts, never for SQL built
 * per call. Needs what `preparedStatements` needs (PgBouncer in transaction mode: 1.21 or later).
 */
export function withPreparedQueries(pool: Pick<PostgresPool, 'query'>): PreparedQueryPool {
  const statements = new Map<string, Statement>();
  return {
    query(text, values) {
      let prepared = statements.get(text);
      if (prepared === undefined) {
        prepared = statement(text);
        statements.set(text, prepared);
      }
      return pool.query({ ...prepared, values: values ?? [] });
    },
  };
}

/**
 * Runs BEGIN (at READ COMMITTED), `fn`, COMMIT on `client`, with ROLLBACK on any error, listening for
 * the client's `'error'` event meanwhile, and always releases it: destroyed (never handed back) when
 * its connection failed.
 */
export async function runTransaction<T>(
  client: PostgresClient,
  fn: (client: PostgresClient) => Promise<T>,
): Promise<T> {
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on?.('error', onError);
  try {
    // READ COMMITTED whatever the role's default_transaction_isolation: the transactions lock a row,
    // then read (count a user's passkeys, look for a taken id) and need those reads to see what the
    // previous lock holder committed. Under REPEATABLE READ the snapshot dates from the first
    // statement, taken before the lock was granted, so concurrent adds each counted too few and went
    // past maxPerAccount (isolation-cap.test.ts).
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (isConnectionFailure(err)) {
      // The connection itself failed or stopped answering (a client-side `query_timeout`, a reset):
      // a ROLLBACK would only wait behind the unanswered query. Destroying the client ends the
      // session, and the server rolls the transaction back itself.
      broken ??= err as Error;
      throw err;
    }
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      // The connection is unusable (or in an unknown state): never hand it back to the pool.
      broken ??= rollbackErr instanceof Error ? rollbackErr : new Error('ROLLBACK failed');
    }
    throw err;
  } finally {
    client.removeListener?.('error', onError);
    client.release(broken);
  }
}

/**
 * An "unavailable" error raised by the client side (network, `query_timeout`, a closed connection)
 * rather than sent by the server: server errors carry a five-character SQLSTATE and leave the
 * connection usable (e.g. `statement_timeout`'s 57014), these do not.
 */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error) || !isUnavailableError(err)) return false;
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  if (typeof severity === 'string') return false; // a pg DatabaseError: sent by the server
  // A SQLSTATE without the DatabaseError around it (no SQLSTATE class starts with E; EPIPE does).
  return !(typeof code === 'string' && code.length === 5 && !code.startsWith('E'));
}

/** Where a store method's SQL runs, with errors mapped to the core's errors. */
export class Db {
  constructor(
    readonly pool: PostgresPool,
    private readonly constraintErrors: ReadonlyMap<string, () => Error>,
    /**
     * Whether `query` runs statements as named prepared statements: PostgreSQL then parses and plans
     * each one once per connection instead of on every call. Off: unnamed, as `pool.query(text, values)`.
     */
    private readonly prepared: boolean,
  ) {}

  /** One parameterised statement on any pooled connection. */
  async query<R extends QueryResultRow>(sql: Statement, values: unknown[]): Promise<QueryResult<R>> {
    try {
      return await (this.prepared
        ? this.pool.query<R>({ name: sql.name, text: sql.text, values })
        : this.pool.query<R>(sql.text, values));
    } catch (err) {
      throw toStoreError(err, this.constraintErrors);
    }
  }

  /**
   * Runs `fn` inside BEGIN/COMMIT on one client from `pool.connect()`, rolling back on any error and
   * always releasing the client (destroying it when the connection itself failed).
   */
  async transaction<T>(fn: (client: PostgresClient) => Promise<T>): Promise<T> {
    let client: PostgresClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw toStoreError(err, this.constraintErrors);
    }
    try {
      return await runTransaction(client, fn);
    } catch (err) {
      throw toStoreError(err, this.constraintErrors);
    }
  }
}
