import { credentialExists, type PassgateStores, usernameTaken } from '@passgate/core';
import { PostgresAccountRepository } from './account-repository.js';
import { PostgresChallengeStore } from './challenge-store.js';
import { PostgresCredentialRepository } from './credential-repository.js';
import { IdentifierCollisionError } from './errors.js';
import { Db, type PostgresPool } from './pool.js';
import { PostgresSignInStore } from './sign-in-store.js';
import { type PostgresLocationOptions, resolveNames } from './sql.js';

export interface PostgresStoresOptions extends PostgresLocationOptions {
  /**
   * The application's pool (`new pg.Pool(...)`, or anything with the same `query` and `connect`).
   * The adapter never opens, closes or configures connections itself; it borrows one per operation
   * and always returns it. Give the pool an `'error'` listener: node-postgres emits errors of idle
   * connections there, and an unhandled one ends the process.
   */
  pool: PostgresPool;
  /**
   * Run the stores' statements as named prepared statements (node-postgres's `{ name, text, values }`),
   * so PostgreSQL parses and plans each one once per connection instead of on every call: about a
   * third less database CPU per sign-in ceremony, measured on PostgreSQL 15. Each connection keeps at
   * most one prepared statement per statement the stores use (about 15), named `passgate_<hash of
   * its text>`. Set `false` behind a connection pooler that does not keep prepared statements per
   * client (PgBouncer in transaction mode before 1.21, or with `max_prepared_statements = 0`).
   * Default `true`.
   */
  preparedStatements?: boolean;
  /**
   * Most calls of one kind per statement. The sign-in calls made during one turn of the event loop
   * go to PostgreSQL together: `login/options`' ceremony inserts, `login/verify`'s consume-and-read
   * and its counter updates, each kind as one statement over arrays. A lone call runs the same
   * statement as without batching; calls for the same ceremony or credential never share one.
   * `0` or `1`: one statement per call. Default 32.
   */
  batchStatements?: number;
}

export interface ChallengeSweeperOptions {
  /** How often to delete expired challenges, in milliseconds. Default 60_000. */
  intervalMs?: number;
  /** Called when a sweep fails (database down, ...). Default: ignored; the next sweep tries again. */
  onError?: (err: unknown) => void;
}

export interface PostgresStores extends PassgateStores {
  /** A sign-in verify's ceremony, credential and account in one statement (see `SignInStore`). */
  signIn: PostgresSignInStore;
  /** Deletes every expired challenge; resolves how many rows went. */
  deleteExpiredChallenges(): Promise<number>;
  /**
   * Runs `deleteExpiredChallenges` every `intervalMs` on an `unref()`ed timer (it never keeps the
   * process alive; sweeps never overlap). Returns the function that stops it.
   */
  startChallengeSweeper(options?: ChallengeSweeperOptions): () => void;
}

/**
 * The three Passgate stores on PostgreSQL. Run `migrate()` (or apply `migrationSql()`) for the same
 * `schema` and `tablePrefix` first.
 */
export function createPostgresStores(options: PostgresStoresOptions): PostgresStores {
  if (!options || typeof options.pool?.query !== 'function' || typeof options.pool.connect !== 'function') {
    throw new TypeError('passgate: createPostgresStores needs a pool with query() and connect()');
  }
  const n = resolveNames(options);
  const constraintErrors = new Map<string, () => Error>([
    [n.c.credentialsPkey, credentialExists],
    [n.c.accountsUsernameKey, usernameTaken],
    [
      n.c.accountsUserHandleKey,
      () => new IdentifierCollisionError('An account with this user handle already exists'),
    ],
    [n.c.accountsPkey, () => new IdentifierCollisionError('An account with this user id already exists')],
  ]);
  const db = new Db(options.pool, constraintErrors, options.preparedStatements ?? true);
  const batch = options.batchStatements ?? 32;
  if (!Number.isSafeInteger(batch) || batch < 0) {
    throw new RangeError('passgate: batchStatements must be a non-negative integer');
  }
  const challenges = new PostgresChallengeStore(db, n, batch);
  const credentials = new PostgresCredentialRepository(db, n, batch);
  const accounts = new PostgresAccountRepository(db, n);

  const deleteExpiredChallenges = () => challenges.deleteExpired();

  function startChallengeSweeper(sweeper: ChallengeSweeperOptions = {}): () => void {
    const intervalMs = sweeper.intervalMs ?? 60_000;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0)
      throw new RangeError('passgate: intervalMs must be positive');
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      deleteExpiredChallenges()
        .catch((err: unknown) => {
          try {
            sweeper.onError?.(err);
          } catch {
            // A throwing error handler must not become an unhandled rejection.
          }
        })
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  const signIn = new PostgresSignInStore(db, n, { challenges, credentials, accounts }, batch);
  return { challenges, credentials, accounts, signIn, deleteExpiredChallenges, startChallengeSweeper };
}
