import { randomBytes } from 'node:crypto';
import type { Account, StoredCredential } from '@passgate/core';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  createPostgresStores,
  migrate,
  type PostgresClient,
  type PostgresPool,
  type PostgresQueryConfig,
  type PostgresStores,
} from '../src/index.js';

export const DATABASE_URL =
  process.env['PASSGATE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export function newPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, ...config });
  pool.on('error', () => {
    // Idle clients dropped by the server (pg_terminate_backend in fault tests).
  });
  return pool;
}

export function randomSchema(label = 't'): string {
  return `pgt_${label}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * A test file's own migrated schema on the shared database: a pool (`config` over `newPool`'s), the
 * schema (migrated before the file's first test) and the stores on it. After the file's last test the
 * schema is dropped and the pool ended. Call it at the top level of the test file.
 */
export function migratedSchemaForFile(
  label: string,
  config: pg.PoolConfig = {},
): { pool: pg.Pool; schema: string; stores: PostgresStores } {
  const pool = newPool(config);
  const schema = randomSchema(label);
  // Making the stores sends nothing; their first statement runs in a test, after the migration.
  const stores = createPostgresStores({ pool, schema });
  beforeAll(async () => {
    await migrate({ pool, schema });
  });
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });
  return { pool, schema, stores };
}

/**
 * `pool` as the stores see it, passing `onSent` what each `pool.query` call got before it goes out:
 * a statement's text (a plain call) or its `{ name, text, values }` config (a prepared statement).
 * `pool.connect()`'s clients (transactions) are handed out as they are.
 */
export function onSentQueries(
  pool: pg.Pool,
  onSent: (config: string | PostgresQueryConfig) => void,
): PostgresPool {
  return {
    query: ((config: string | PostgresQueryConfig, values?: unknown[]) => {
      onSent(config);
      return typeof config === 'string' ? pool.query(config, values) : pool.query(config);
    }) as PostgresPool['query'],
    connect: () => pool.connect(),
  };
}

/** A backend waiting on a lock: its pid, and its transaction's start (its statement's `now()`). */
export interface LockWaiter {
  pid: number;
  xactStart: Date;
}

/**
 * The backends waiting on a lock in a statement whose text matches `pattern` (LIKE), once at least
 * `count` (at least one) of them wait, polled every 10 ms, `tries` times. Rejects when fewer ever
 * waited.
 */
export async function lockWaiters(
  pool: pg.Pool,
  pattern: string,
  { count = 1, tries = 200 }: { count?: number; tries?: number } = {},
): Promise<[LockWaiter, ...LockWaiter[]]> {
  for (let i = 0; i < tries; i++) {
    const { rows } = await pool.query<{ pid: number; xact_start: Date }>(
      `SELECT pid, xact_start FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND state = 'active'
          AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [pattern],
    );
    const [first, ...rest] = rows.map((row) => ({ pid: row.pid, xactStart: row.xact_start }));
    if (first !== undefined && rows.length >= count) return [first, ...rest];
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} backends ever waited on a lock in a statement like ${pattern}`);
}

/**
 * `pool` as the stores see it, passing `onRefused` the code (a SQLSTATE, or a Node code such as
 * ECONNRESET) and text of every statement that failed, on `pool.query` and on `pool.connect()`'s
 * clients alike; the error still reaches the store. The stores hide refusals (a refused batch is rerun
 * call by call, a refused call becomes `store_unavailable`), so only here can a test see that
 * PostgreSQL deadlocked or refused to serialize, or show that it never did.
 */
export function onRefusedStatements(
  pool: pg.Pool,
  onRefused: (code: string, text: string) => void,
): PostgresPool {
  type Send = (config: string | { text: string }, values?: unknown[]) => Promise<unknown>;
  const watch =
    (send: Send): Send =>
    (config, values) =>
      send(config, values).catch((error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === 'string') onRefused(code, typeof config === 'string' ? config : config.text);
        throw error;
      });
  return {
    query: watch(pool.query.bind(pool) as Send) as PostgresPool['query'],
    async connect() {
      const client = await pool.connect();
      return {
        query: watch(client.query.bind(client) as Send) as PostgresClient['query'],
        release: (err) => client.release(err),
        on: (event, listener) => client.on(event, listener),
        removeListener: (event, listener) => client.removeListener(event, listener),
      };
    },
  };
}

/** A copy of `items` in random order (Fisher–Yates). */
export function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function b64u(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export function account(overrides: Partial<Account> = {}): Account {
  const tag = randomBytes(4).toString('hex');
  return {
    userId: `user-${tag}`,
    userHandle: b64u(32),
    username: `name-${tag}`,
    displayName: `Display ${tag}`,
    createdAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678)),
    ...overrides,
  };
}

export function credential(userHandle: string, overrides: Partial<StoredCredential> = {}): StoredCredential {
  return {
    id: b64u(16),
    userHandle,
    publicKey: new Uint8Array(randomBytes(77)),
    algorithm: -7,
    counter: 0,
    transports: ['internal', 'hybrid'],
    backupEligible: true,
    backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000',
    attestationFormat: 'none',
    nickname: null,
    createdAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 679)),
    lastUsedAt: null,
    ...overrides,
  };
}
