import { createHash } from 'node:crypto';
import { type PostgresPool, runTransaction } from './pool.js';
import { type PostgresLocationOptions, quoteIdent, resolveNames, type SqlNames } from './sql.js';

/** One schema change, in the order applied. `sql` is rendered for a schema and table prefix. */
export interface Migration {
  /** Strictly increasing, starting at 1. Recorded in `<prefix>migrations` once applied. */
  version: number;
  name: string;
  sql: string;
}

interface MigrationTemplate {
  version: number;
  name: string;
  sql: (n: SqlNames) => string;
}

/**
 * The schema, as versioned migrations. Never edit a released one: add a new version.
 * Every statement is idempotent (`IF NOT EXISTS`, `IF EXISTS`), so applying the text twice is harmless.
 */
const MIGRATIONS: readonly MigrationTemplate[] = [
  {
    version: 1,
    name: 'create_accounts_credentials_challenges',
    sql: (n) => `CREATE TABLE IF NOT EXISTS ${n.accounts} (
  user_id text NOT NULL,
  user_handle bytea NOT NULL,
  username text NOT NULL,
  display_name text NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT "${n.c.accountsPkey}" PRIMARY KEY (user_id),
  CONSTRAINT "${n.c.accountsUserHandleKey}" UNIQUE (user_handle),
  CONSTRAINT "${n.c.accountsUsernameKey}" UNIQUE (username)
);

CREATE TABLE IF NOT EXISTS ${n.credentials} (
  id bytea NOT NULL,
  user_handle bytea NOT NULL,
  public_key bytea NOT NULL,
  algorithm integer NOT NULL,
  counter bigint NOT NULL CHECK (counter >= 0),
  transports text[] NOT NULL DEFAULT '{}',
  backup_eligible boolean NOT NULL,
  backed_up boolean NOT NULL,
  aaguid text NOT NULL,
  attestation_format text NOT NULL,
  nickname text,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  CONSTRAINT "${n.c.credentialsPkey}" PRIMARY KEY (id),
  CONSTRAINT "${n.c.credentialsUserHandleFkey}" FOREIGN KEY (user_handle)
    REFERENCES ${n.accounts} (user_handle) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS "${n.c.credentialsUserHandleIdx}" ON ${n.credentials} (user_handle);

CREATE TABLE IF NOT EXISTS ${n.challenges} (
  id text NOT NULL,
  value text NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT "${n.c.challengesPkey}" PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS "${n.c.challengesExpiresAtIdx}" ON ${n.challenges} (expires_at);
`,
  },
  {
    // Pending ceremonies live for minutes and are worth nothing after a crash: an unlogged table
    // writes no WAL for them, so a ceremony's INSERT and its consuming DELETE commit without a WAL
    // flush (about 100 µs of database CPU less per sign-in, and a disk sync less on each). It fails
    // closed: after a crash the table is emptied (never restored to an older state in which a consumed
    // ceremony would exist again), and a promoted standby starts without any; those ceremonies fail
    // and the user starts again. Already unlogged: a no-op. Rewrites the (small) table under a lock.
    version: 2,
    name: 'challenges_unlogged',
    sql: (n) => `ALTER TABLE ${n.challenges} SET UNLOGGED;
`,
  },
  {
    // A ceremony is consumed by its id, so only the primary key should ever drive that DELETE. With
    // an index on expires_at, PostgreSQL may plan `expires_at > now()` as the index scan instead (a
    // generic plan made while the table was small, or statistics older than the ceremonies, which
    // make "not yet expired" look rare): that visits every pending ceremony, and every dead entry
    // not yet vacuumed, on each sign-in. Measured in the bench: a batched consume planned that way
    // spent about 14% of the database's CPU there. The sweeper that used the index runs once a
    // minute over a table that holds pending ceremonies and those expired since the last sweep,
    // most of which it deletes: a sequential scan is as good.
    // Also one index fewer to maintain on every put.
    version: 3,
    name: 'challenges_drop_expires_at_index',
    sql: (n) => `DROP INDEX IF EXISTS ${n.schemaQ}.${quoteIdent(n.c.challengesExpiresAtIdx)};
`,
  },
];

/** The migrations rendered for a schema and table prefix (for a team's own migration tool). */
export function migrations(options: PostgresLocationOptions = {}): Migration[] {
  const names = resolveNames(options);
  return MIGRATIONS.map((m) => ({ version: m.version, name: m.name, sql: m.sql(names) }));
}

/** The latest migration version this package knows. */
export const LATEST_MIGRATION_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

function createSchemaSql(n: SqlNames): string {
  return `CREATE SCHEMA IF NOT EXISTS ${n.schemaQ};\n`;
}

function migrationsTableSql(n: SqlNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.migrations} (
  version integer NOT NULL,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT "${n.c.migrationsPkey}" PRIMARY KEY (version)
);
`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The whole schema as one SQL script, for teams that run their own migration tool: creates the schema,
 * the migrations table, every table and index, and records each version in `<prefix>migrations` (so a
 * later `migrate()` sees them as applied). Safe to run more than once. Run it in one transaction.
 */
export function migrationSql(options: PostgresLocationOptions = {}): string {
  const n = resolveNames(options);
  const parts = [
    `-- Passgate schema for ${n.schemaQ}, table prefix ${literal(n.prefix)}\n`,
    `${createSchemaSql(n)}\n${migrationsTableSql(n)}`,
  ];
  for (const m of MIGRATIONS) {
    parts.push(
      `-- ${m.version}: ${m.name}\n${m.sql(n)}\nINSERT INTO ${n.migrations} (version, name) VALUES (${m.version}, ${literal(m.name)}) ON CONFLICT (version) DO NOTHING;\n`,
    );
  }
  return parts.join('\n');
}

/** Signed 64-bit advisory lock key derived from schema and prefix, as a decimal string. */
export function migrationLockKey(options: PostgresLocationOptions = {}): string {
  const n = resolveNames(options);
  const digest = createHash('sha256').update(`passgate:migrate:${n.schema}\u0000${n.prefix}`).digest();
  return digest.readBigInt64BE(0).toString();
}

export interface MigrateOptions extends PostgresLocationOptions {
  /** The application's pool; one client is taken for the duration of the migration and released. */
  pool: PostgresPool;
}

export interface MigrateResult {
  /** Versions applied by this call, in order (empty when the schema was already current). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/**
 * Brings the schema up to date: creates the schema and `<prefix>migrations` if needed and applies every
 * migration not yet recorded there, all in one transaction. Concurrent runs (several app instances
 * starting together) serialise on a transaction-scoped advisory lock keyed by schema and prefix, so
 * exactly one applies each version and the others find it done. Idempotent. Errors propagate as thrown
 * by `pg` (nothing is applied then). The schema is created only when `pg_namespace` has no such
 * schema, so a role with `CREATE` on an existing schema (and none on the database) can migrate it.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const n = resolveNames(options);
  const key = migrationLockKey(options);
  const client = await options.pool.connect();
  return runTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
    // `CREATE SCHEMA IF NOT EXISTS` checks the CREATE privilege on the database before it looks for
    // the schema, so it fails for a role that may only create in an existing schema: look first.
    const schema = await client.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [n.schema]);
    if (schema.rowCount === 0) await client.query(createSchemaSql(n));
    await client.query(migrationsTableSql(n));
    const done = await client.query<{ version: number }>(`SELECT version FROM ${n.migrations}`);
    const appliedBefore = new Set(done.rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (appliedBefore.has(m.version)) continue;
      await client.query(m.sql(n));
      await client.query(`INSERT INTO ${n.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    return { applied, version: Math.max(0, ...appliedBefore, ...applied) };
  });
}
