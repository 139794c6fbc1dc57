/**
 * Store wiring for `PASSGATE_STORE`: the Passgate instance plus an express-session store that keeps
 * sessions where the passkeys are, so several instances behave as one.
 */
import {
  consoleLogger,
  createMemoryStores,
  createPassgate,
  type Passgate,
  type PassgateLogger,
  type PassgateOptions,
  type PassgateStores,
  type RateLimitOptions,
} from '@passgate/core';
import { withStoreOutages } from '@passgate/core/node';
import {
  createPostgresStores,
  isUnavailableError as isPostgresOutage,
  migrate,
  withPreparedQueries,
} from '@passgate/postgres';
import {
  createRedisRateLimiters,
  createRedisStores,
  isUnavailableError as isRedisOutage,
} from '@passgate/redis';
import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { Redis } from 'ioredis';
import pg from 'pg';
import { passgatePolicyOptions, type ResolvedDemoConfig } from './config.js';

/**
 * The client the stores use, for an app that keeps its own data beside the passkeys (the
 * existing-users demo's password accounts). Closed by `DemoBackend.close`.
 */
export type DemoConnection =
  | { kind: 'memory' }
  | { kind: 'redis'; client: Redis; prefix: string }
  | { kind: 'postgres'; pool: pg.Pool; tablePrefix: string };

export interface DemoBackend {
  passgate: Passgate;
  connection: DemoConnection;
  /** The express-session store. */
  sessionStore: session.Store;
  /** A one-line description of where state lives, for the start-up log. */
  description: string;
  /** Stops timers and closes the connections this backend opened. */
  close(): Promise<void>;
}

export interface DemoBackendOptions {
  /** Key prefix in Redis (default `passgate:`); sessions go under `<prefix>sess:`. */
  redisPrefix?: string;
  /** Table prefix in PostgreSQL (default `passgate_`); sessions go to `<prefix>demo_sessions`. */
  postgresTablePrefix?: string;
  logger?: PassgateLogger;
  /**
   * Wraps the Redis client the backend opened, before the stores, rate limiters and session store
   * get it (the round-trip tests count commands through it). The backend still closes the client.
   */
  wrapRedisClient?: (client: Redis) => Redis;
  /** Likewise for the PostgreSQL pool (after migrating): the stores and the session store get the wrapper. */
  wrapPostgresPool?: (pool: pg.Pool) => pg.Pool;
  /** The relying party's name authenticators show. Default `Passgate demo`. */
  rpName?: string;
  /**
   * Passgate options that win over the environment's (the existing-users demo turns Passgate's own
   * sign-up off and allows deleting the last passkey: its users have passwords).
   */
  passgateOverrides?: Pick<PassgateOptions, 'signUp' | 'allowDeletingLastCredential'>;
}

export async function createDemoBackend(
  config: ResolvedDemoConfig,
  options: DemoBackendOptions = {},
): Promise<DemoBackend> {
  const logger = options.logger ?? consoleLogger;
  const base = (stores: PassgateStores, rateLimits: RateLimitOptions): PassgateOptions => ({
    rp: {
      name: options.rpName ?? 'Passgate demo',
      id: config.rpId,
      origins: [config.origin],
      relatedOrigins: config.relatedOrigins,
    },
    stores,
    secret: config.passgateSecret,
    rateLimits,
    logger,
    ...passgatePolicyOptions(config),
    ...options.passgateOverrides,
  });
  const memoryLimits: RateLimitOptions = {};
  if (config.perIp) memoryLimits.perIp = config.perIp;
  if (config.accountFailures) memoryLimits.accountFailures = config.accountFailures;

  switch (config.store) {
    case 'memory':
      return {
        passgate: createPassgate(base(createMemoryStores(), memoryLimits)),
        connection: { kind: 'memory' },
        sessionStore: new AbsoluteMemoryStore(),
        description: 'in memory (lost on restart)',
        close: async () => {},
      };

    case 'redis': {
      const prefix = options.redisPrefix ?? 'passgate:';
      const client = new Redis(config.redisUrl, {
        lazyConnect: true,
        // Required by createRedisStores: never re-send a command whose reply a dropped connection
        // lost (Redis may have run it already; the second run's answer would be wrong).
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        // A deadline for every command, the rate limiters' included (rate-limiter-flexible has none
        // of its own): a paused or partitioned Redis answers 503 in a second instead of hanging.
        commandTimeout: 1000,
        // The commands of one event-loop turn go out as one pipeline: a sign-in storm's requests
        // then share socket writes and Redis reads. Measured on the bench (5 A/B pairs): about 40%
        // less Redis CPU and server system time per sign-in, and sign-ins/s up in every pair.
        enableAutoPipelining: true,
      });
      client.on('error', (error: Error) => logger.warn('redis connection error', { message: error.message }));
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw new Error(`Could not connect to Redis (REDIS_URL): ${(error as Error).message}`);
      }
      const used = options.wrapRedisClient?.(client) ?? client;
      const rateLimits = createRedisRateLimiters({
        client: used,
        prefix,
        ...(config.perIp ? { perIp: config.perIp } : {}),
        ...(config.accountFailures ? { accountFailures: config.accountFailures } : {}),
      });
      return {
        // The stores get the limiters too, so login/options and login/verify count the per-IP
        // request in their own Lua script (one round trip each instead of two).
        passgate: createPassgate(
          base(createRedisStores({ client: used, prefix, rateLimiters: rateLimits }), rateLimits),
        ),
        connection: { kind: 'redis', client: used, prefix },
        // connect-redis 8 accepts an ioredis client (it normalises node-redis and ioredis calls).
        // disableTouch: requests never extend the stored session (see AbsoluteMemoryStore).
        sessionStore: withStoreOutages(
          new RedisStore({ client: used, prefix: `${prefix}sess:`, disableTouch: true }),
          isRedisOutage,
        ),
        description: `in Redis (${redactUrl(config.redisUrl)}, keys ${prefix}*)`,
        close: async () => {
          await client.quit().catch(() => client.disconnect());
        },
      };
    }

    case 'postgres': {
      const tablePrefix = options.postgresTablePrefix ?? 'passgate_';
      const pool = new pg.Pool({
        connectionString: config.databaseUrl,
        max: 10,
        connectionTimeoutMillis: 2000,
        // Client-side bound on every query: a database that stops answering (network partition)
        // never reports statement_timeout, so without it a request would hang.
        query_timeout: 5000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      pool.on('error', (error) => logger.warn('idle postgres client failed', { message: error.message }));
      try {
        await migrate({ pool, tablePrefix });
      } catch (error) {
        await pool.end().catch(() => {});
        throw new Error(`Could not prepare PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
      }
      const used = options.wrapPostgresPool?.(pool) ?? pool;
      const stores = createPostgresStores({ pool: used, tablePrefix });
      const stopSweeper = stores.startChallengeSweeper({ intervalMs: 60_000 });
      const sessionTable = `${tablePrefix}demo_sessions`;
      try {
        await createSessionTable(pool, sessionTable);
      } catch (error) {
        await pool.end().catch(() => {});
        throw new Error(`Could not prepare PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
      }
      const PgStore = connectPgSimple(session);
      const sessionStore = withStoreOutages(
        new PgStore({
          // Its fixed queries as named prepared statements, parsed once per connection.
          // connect-pg-simple only calls `query(text, values)` on the pool it is given.
          pool: withPreparedQueries(used) as unknown as pg.Pool,
          tableName: sessionTable,
          createTableIfMissing: false,
          pruneSessionInterval: 15 * 60,
          // Requests never extend the stored session (see AbsoluteMemoryStore).
          disableTouch: true,
        }),
        isPostgresOutage,
      );
      return {
        // Rate limits stay per process here (in memory); use Redis to share them between instances.
        passgate: createPassgate(base(stores, memoryLimits)),
        connection: { kind: 'postgres', pool: used, tablePrefix },
        sessionStore,
        description: `in PostgreSQL (${redactUrl(config.databaseUrl)}, tables ${tablePrefix}*)`,
        close: async () => {
          stopSweeper();
          sessionStore.close();
          await pool.end();
        },
      };
    }
  }
}

/**
 * express-session's MemoryStore without `touch`. A session lasts 8 hours from the sign-in, in the
 * browser and in the store alike: express-session (even with `rolling: false`) resets the expiry of
 * every session a request reads and asks the store to `touch` it, which would keep a session alive
 * on the server as long as someone kept sending its cookie, e.g. a stolen one replayed past the
 * cookie's own expiry. The Redis and PostgreSQL session stores get `disableTouch: true` for the same
 * reason. It also spares each signed-in request a store write (a round trip on Redis and PostgreSQL).
 */
class AbsoluteMemoryStore extends session.MemoryStore {
  override touch(_sid: string, _session: session.SessionData, callback?: () => void): void {
    callback?.();
  }
}

/** A URL without its password, for logs. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * connect-pg-simple's own `createTableIfMissing` names the primary key `session_pkey` whatever the
 * table is called, so two session tables in one schema collide, and two instances starting together
 * race on `CREATE TABLE`. The demo creates its table itself: names derived from the table, under an
 * advisory lock, idempotent.
 *
 * UNLOGGED, as Passgate's challenges table: a session write then commits without a WAL flush, which
 * on the bench took the database's CPU per sign-in from 750–810 µs to about 620 (docs/production.md,
 * §11). What the app gives up: after a PostgreSQL crash the table is emptied, and a promoted standby
 * has no sessions, so everyone signs in again; a session that was ended never comes back, unlike with
 * `synchronous_commit = off`. Passkeys and counters stay in logged tables.
 */
async function createSessionTable(pool: pg.Pool, table: string): Promise<void> {
  const name = (suffix = '') => `"${`${table}${suffix}`.replace(/"/g, '""')}"`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('passgate-demo-sessions'))");
    await client.query(
      `CREATE UNLOGGED TABLE IF NOT EXISTS ${name()} (
        sid varchar NOT NULL,
        sess json NOT NULL,
        expire timestamp(6) NOT NULL,
        CONSTRAINT ${name('_pkey')} PRIMARY KEY (sid)
      )`,
    );
    await client.query(`CREATE INDEX IF NOT EXISTS ${name('_expire_idx')} ON ${name()} (expire)`);
    // A table of an older demo becomes unlogged too (a no-op for one that already is).
    await client.query(`ALTER TABLE ${name()} SET UNLOGGED`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
