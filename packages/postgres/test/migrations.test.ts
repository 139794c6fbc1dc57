import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  LATEST_MIGRATION_VERSION,
  migrate,
  migrationSql,
  migrations,
} from '../src/index.js';
import { account, credential, DATABASE_URL, dropSchema, newPool, randomSchema } from './helpers.js';

const pool = newPool();
const schemas: string[] = [];
function schemaFor(label: string): string {
  const s = randomSchema(label);
  schemas.push(s);
  return s;
}

async function tablesIn(schema: string): Promise<string[]> {
  const res = await pool.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema],
  );
  return res.rows.map((r) => r.table_name);
}

afterAll(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('migrate', () => {
  // Migrated before the tests that read or re-run it, so that none of them depends on another
  // having run first (the suite may run shuffled).
  let schema: string;
  beforeAll(async () => {
    schema = schemaFor('mig');
    await migrate({ pool, schema });
  });

  it('creates the schema, the tables and the migrations record in a fresh schema', async () => {
    const schema = schemaFor('fresh');
    const result = await migrate({ pool, schema });
    expect(result.applied).toEqual(migrations().map((m) => m.version));
    expect(result.version).toBe(LATEST_MIGRATION_VERSION);
    expect(await tablesIn(schema)).toEqual([
      'passgate_accounts',
      'passgate_challenges',
      'passgate_credentials',
      'passgate_migrations',
    ]);
    const rows = await pool.query(
      `SELECT version, name FROM "${schema}".passgate_migrations ORDER BY version`,
    );
    expect(rows.rows).toEqual(migrations().map((m) => ({ version: m.version, name: m.name })));
    const idx = await pool.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [schema],
    );
    // Pending ceremonies are found by id only: no index on expires_at (migration 3 says why).
    expect(idx.rows.map((r) => r.indexname)).toEqual([
      'passgate_accounts_pkey',
      'passgate_accounts_user_handle_key',
      'passgate_accounts_username_key',
      'passgate_challenges_pkey',
      'passgate_credentials_pkey',
      'passgate_credentials_user_handle_idx',
      'passgate_migrations_pkey',
    ]);
  });

  it('keeps pending ceremonies in an unlogged table, and everything else logged', async () => {
    const res = await pool.query<{ relname: string; relpersistence: string }>(
      `SELECT c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') ORDER BY c.relname`,
      [schema],
    );
    const unlogged = res.rows.filter((r) => r.relpersistence === 'u').map((r) => r.relname);
    // The table and its indexes: no WAL for a ceremony's INSERT and DELETE. After a crash the table
    // is emptied, never restored to a state in which a consumed ceremony exists again.
    expect(unlogged).toEqual(['passgate_challenges', 'passgate_challenges_pkey']);
    expect(res.rows.length).toBeGreaterThan(unlogged.length);
  });

  it('upgrades a schema at version 1: the challenges table becomes unlogged and keeps its rows', async () => {
    const s = schemaFor('v1');
    const first = migrations({ schema: s })[0]!;
    await pool.query(`CREATE SCHEMA "${s}"`);
    await pool.query(first.sql);
    await pool.query(
      `CREATE TABLE "${s}".passgate_migrations (version integer PRIMARY KEY, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await pool.query(`INSERT INTO "${s}".passgate_migrations (version, name) VALUES (1, $1)`, [first.name]);
    const stores = createPostgresStores({ pool, schema: s });
    expect(await stores.challenges.put('pending', 'state', 60_000)).toBe(true);

    const result = await migrate({ pool, schema: s });
    expect(result.applied).toEqual(
      migrations()
        .map((m) => m.version)
        .filter((v) => v > 1),
    );
    const table = await pool.query<{ relpersistence: string }>(
      `SELECT relpersistence FROM pg_class WHERE oid = '"${s}".passgate_challenges'::regclass`,
    );
    expect(table.rows[0]?.relpersistence).toBe('u');
    expect(await stores.challenges.consume('pending')).toBe('state');
  });

  it('upgrades a schema at version 2: the expires_at index goes, pending ceremonies stay', async () => {
    const s = schemaFor('v2');
    const [first, second] = migrations({ schema: s });
    await pool.query(`CREATE SCHEMA "${s}"`);
    await pool.query(first!.sql);
    await pool.query(second!.sql);
    await pool.query(
      `CREATE TABLE "${s}".passgate_migrations (version integer PRIMARY KEY, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await pool.query(`INSERT INTO "${s}".passgate_migrations (version, name) VALUES (1, $1), (2, $2)`, [
      first!.name,
      second!.name,
    ]);
    const stores = createPostgresStores({ pool, schema: s });
    expect(await stores.challenges.put('pending', 'state', 60_000)).toBe(true);
    const indexesOf = async () =>
      (
        await pool.query<{ indexname: string }>(
          `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'passgate_challenges'`,
          [s],
        )
      ).rows.map((r) => r.indexname);
    expect(await indexesOf()).toContain('passgate_challenges_expires_at_idx');

    const result = await migrate({ pool, schema: s });
    expect(result.applied).toEqual(
      migrations()
        .map((m) => m.version)
        .filter((v) => v > 2),
    );
    expect(await indexesOf()).toEqual(['passgate_challenges_pkey']);
    expect(await stores.challenges.consume('pending')).toBe('state');
    expect(await stores.deleteExpiredChallenges()).toBe(0);
  });

  it('is a no-op when run again', async () => {
    const before = await pool.query(`SELECT version, applied_at FROM "${schema}".passgate_migrations`);
    const result = await migrate({ pool, schema });
    expect(result).toEqual({ applied: [], version: LATEST_MIGRATION_VERSION });
    const after = await pool.query(`SELECT version, applied_at FROM "${schema}".passgate_migrations`);
    expect(after.rows).toEqual(before.rows);
  });

  it('keeps data across a re-run', async () => {
    const stores = createPostgresStores({ pool, schema });
    const a = account();
    await stores.accounts.create(a, credential(a.userHandle));
    await migrate({ pool, schema });
    expect(await stores.accounts.findByUserId(a.userId)).toEqual(a);
  });

  it('two concurrent runs on separate pools both succeed, with one set of tables and one row per version', async () => {
    const s = schemaFor('conc');
    const pools = [newPool({ max: 1 }), newPool({ max: 1 }), newPool({ max: 1 })];
    try {
      const results = await Promise.all(
        pools.map((p) => migrate({ pool: p, schema: s, tablePrefix: 'pg_' })),
      );
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, migrations().length]);
      for (const r of results) expect(r.version).toBe(LATEST_MIGRATION_VERSION);
      expect(await tablesIn(s)).toEqual(['pg_accounts', 'pg_challenges', 'pg_credentials', 'pg_migrations']);
      const rows = await pool.query(
        `SELECT version, count(*)::int AS n FROM "${s}".pg_migrations GROUP BY version ORDER BY version`,
      );
      expect(rows.rows).toEqual(migrations().map((m) => ({ version: m.version, n: 1 })));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('keeps schemas and prefixes apart', async () => {
    const s = schemaFor('pfx');
    await migrate({ pool, schema: s, tablePrefix: 'a_' });
    await migrate({ pool, schema: s, tablePrefix: '' });
    expect(await tablesIn(s)).toEqual([
      'a_accounts',
      'a_challenges',
      'a_credentials',
      'a_migrations',
      'accounts',
      'challenges',
      'credentials',
      'migrations',
    ]);
    const one = createPostgresStores({ pool, schema: s, tablePrefix: 'a_' });
    const two = createPostgresStores({ pool, schema: s, tablePrefix: '' });
    expect(await one.challenges.put('x', 'one', 60_000)).toBe(true);
    expect(await two.challenges.put('x', 'two', 60_000)).toBe(true);
    expect(await one.challenges.consume('x')).toBe('one');
    expect(await two.challenges.consume('x')).toBe('two');
  });

  it('handles a mixed-case schema name (quoted identifiers)', async () => {
    const s = `${schemaFor('case')}_Mixed`;
    schemas.push(s);
    await migrate({ pool, schema: s });
    const stores = createPostgresStores({ pool, schema: s });
    expect(await stores.challenges.put('id', 'v', 1000)).toBe(true);
    expect(await stores.challenges.consume('id')).toBe('v');
  });

  it('rejects unsafe identifiers before touching the database', async () => {
    for (const schema of ['', 'a"b', 'x; DROP TABLE y', '1abc', 'a'.repeat(64), 'sp ace', 'pg_x']) {
      await expect(migrate({ pool, schema })).rejects.toThrow(TypeError);
      expect(() => migrationSql({ schema })).toThrow(TypeError);
      expect(() => createPostgresStores({ pool, schema })).toThrow(TypeError);
    }
    for (const tablePrefix of ['A_', 'a-b', '1_', 'a'.repeat(33), 'x"']) {
      expect(() => createPostgresStores({ pool, tablePrefix })).toThrow(TypeError);
    }
  });
});

describe('migrationSql', () => {
  it('applies cleanly with pool.query into a fresh schema, and again (idempotent)', async () => {
    const s = schemaFor('sql');
    const sql = migrationSql({ schema: s, tablePrefix: 'pk_' });
    expect(sql).toContain(`"${s}"."pk_credentials"`);
    await pool.query(`BEGIN;\n${sql}\nCOMMIT;`);
    await pool.query(sql);
    expect(await tablesIn(s)).toEqual(['pk_accounts', 'pk_challenges', 'pk_credentials', 'pk_migrations']);
    // migrate() afterwards sees every version as applied.
    expect(await migrate({ pool, schema: s, tablePrefix: 'pk_' })).toEqual({
      applied: [],
      version: LATEST_MIGRATION_VERSION,
    });
    const stores = createPostgresStores({ pool, schema: s, tablePrefix: 'pk_' });
    const a = account();
    const c = credential(a.userHandle);
    await stores.accounts.create(a, c);
    expect(await stores.credentials.findById(c.id)).toEqual(c);
  });

  it('defaults to public / passgate_', () => {
    const sql = migrationSql();
    expect(sql).toContain('"public"."passgate_accounts"');
    expect(sql).toContain('"passgate_credentials_pkey"');
    expect(migrations()[0]?.sql).toContain('"public"."passgate_challenges"');
  });
});

describe('migrate with least privilege', () => {
  const role = `pgt_role_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let schema: string;

  beforeAll(async () => {
    schema = schemaFor('priv');
    await pool.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`GRANT USAGE, CREATE ON SCHEMA "${schema}" TO "${role}"`);
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.query(`DROP ROLE IF EXISTS "${role}"`);
  });

  it('needs only CREATE on an existing schema, not on the database', async () => {
    const url = new URL(DATABASE_URL);
    url.username = role;
    url.password = password;
    const limited = newPool({ connectionString: url.toString(), max: 2 });
    try {
      const privileges = await limited.query<{ database: boolean; schema: boolean }>(
        `SELECT has_database_privilege(current_database(), 'CREATE') AS database,
                has_schema_privilege($1, 'CREATE') AS schema`,
        [schema],
      );
      expect(privileges.rows[0]).toEqual({ database: false, schema: true });

      const result = await migrate({ pool: limited, schema });
      expect(result).toEqual({
        applied: migrations().map((m) => m.version),
        version: LATEST_MIGRATION_VERSION,
      });
      expect(await migrate({ pool: limited, schema })).toEqual({
        applied: [],
        version: LATEST_MIGRATION_VERSION,
      });

      const stores = createPostgresStores({ pool: limited, schema });
      const a = account();
      await stores.accounts.create(a, credential(a.userHandle));
      expect(await stores.accounts.findByUsername(a.username)).toEqual(a);

      // A schema that does not exist still needs CREATE on the database, and says so.
      await expect(migrate({ pool: limited, schema: `${schema}_missing` })).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await limited.end();
    }
  });
});
