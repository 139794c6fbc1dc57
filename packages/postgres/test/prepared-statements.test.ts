import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  type PostgresPool,
  type PostgresStores,
  withPreparedQueries,
} from '../src/index.js';
import { account, b64u, credential, dropSchema, newPool, randomSchema } from './helpers.js';

/**
 * The stores' statements go out as named prepared statements (parsed and planned once per connection)
 * unless `preparedStatements: false`. One connection per pool here, so what the server holds is what
 * that connection prepared.
 */

const schemas = [randomSchema('prep'), randomSchema('prep')];
const pools: pg.Pool[] = [];

/** What reached `pool.query`: the statement's name, or `null` for a plain `(text, values)` call. */
let sent: (string | null)[] = [];

function recording(inner: pg.Pool): PostgresPool {
  return {
    query: ((config: string | { name?: string }, values?: unknown[]) => {
      sent.push(typeof config === 'string' ? null : (config.name ?? null));
      return inner.query(config as string, values);
    }) as PostgresPool['query'],
    connect: () => inner.connect(),
  };
}

function onePool(): pg.Pool {
  const pool = newPool({ max: 1 });
  pools.push(pool);
  return pool;
}

/** A sign-in's statements: the ceremony put, the sign-in read, the counter update; twice. */
async function signInTwice(stores: PostgresStores, credentialId: string): Promise<void> {
  for (let counter = 0; counter < 2; counter++) {
    const ceremony = b64u();
    expect(await stores.challenges.put(ceremony, `state-${counter}`, 60_000)).toBe(true);
    const reads = await stores.signIn.consumeForSignIn(ceremony, credentialId);
    expect(reads.ceremony).toBe(`state-${counter}`);
    expect(reads.credential?.id).toBe(credentialId);
    const updated = await stores.credentials.updateAfterSignIn({
      id: credentialId,
      expectedCounter: counter,
      counter: counter + 1,
      backedUp: false,
      lastUsedAt: new Date(),
    });
    expect(updated?.counter).toBe(counter + 1);
  }
}

async function prepared(pool: pg.Pool): Promise<{ name: string; statement: string; runs: number }[]> {
  const res = await pool.query<{ name: string; statement: string; runs: string }>(
    `SELECT name, statement, generic_plans + custom_plans AS runs
       FROM pg_prepared_statements ORDER BY name`,
  );
  return res.rows.map((r) => ({ name: r.name, statement: r.statement, runs: Number(r.runs) }));
}

async function seeded(pool: pg.Pool, schema: string, preparedStatements?: boolean) {
  const stores = createPostgresStores({
    pool: recording(pool),
    schema,
    ...(preparedStatements === undefined ? {} : { preparedStatements }),
  });
  const a = account();
  const c = credential(a.userHandle, { counter: 0 });
  await stores.accounts.create(a, c);
  return { stores, credentialId: c.id };
}

beforeAll(async () => {
  const admin = onePool();
  for (const schema of schemas) await migrate({ pool: admin, schema });
});

afterAll(async () => {
  for (const schema of schemas) await dropSchema(pools[0]!, schema);
  await Promise.all(pools.map((pool) => pool.end()));
});

describe('preparedStatements', () => {
  it('by default, runs each statement under a name derived from its text, prepared once per connection', async () => {
    const pool = onePool();
    const { stores, credentialId } = await seeded(pool, schemas[0]!);
    sent = [];
    await signInTwice(stores, credentialId);
    expect(sent).toHaveLength(6);
    for (const name of sent) expect(name).toMatch(/^passgate_[0-9a-f]{32}$/);
    // Three statements, each sent twice under one name.
    expect(new Set(sent).size).toBe(3);

    const held = (await prepared(pool)).filter((p) => sent.includes(p.name));
    expect(held.map((p) => p.name).sort()).toEqual([...new Set(sent)].sort());
    // Prepared once, run twice: the second run reused the server's prepared statement.
    for (const p of held) expect(p.runs).toBe(2);
    expect(held.some((p) => p.statement.includes(`"${schemas[0]}"."passgate_challenges"`))).toBe(true);
  });

  it('stores for two schemas share one connection: the same statement for another table gets another name', async () => {
    const pool = onePool();
    const one = await seeded(pool, schemas[0]!);
    const two = await seeded(pool, schemas[1]!);
    sent = [];
    await signInTwice(one.stores, one.credentialId);
    const first = new Set(sent);
    sent = [];
    await signInTwice(two.stores, two.credentialId);
    const second = new Set(sent);
    expect(second.size).toBe(3);
    for (const name of second) expect(first.has(name)).toBe(false);
  });

  it('false: plain (text, values) calls, nothing prepared on the connection', async () => {
    const pool = onePool();
    const { stores, credentialId } = await seeded(pool, schemas[1]!, false);
    sent = [];
    await signInTwice(stores, credentialId);
    expect(sent).toEqual([null, null, null, null, null, null]);
    expect(await prepared(pool)).toEqual([]);
  });
});

describe('withPreparedQueries (for a library that only calls query(text, values), e.g. connect-pg-simple)', () => {
  it('sends each fixed text as one named statement, prepared once per connection and run again', async () => {
    const pool = onePool();
    const recorded = recording(pool);
    const queries = withPreparedQueries(recorded);
    sent = [];
    const text = 'SELECT $1::int + 1 AS next';
    expect((await queries.query<{ next: number }>(text, [1])).rows).toEqual([{ next: 2 }]);
    expect((await queries.query<{ next: number }>(text, [41])).rows).toEqual([{ next: 42 }]);
    expect((await queries.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(sent).toHaveLength(3);
    for (const name of sent) expect(name).toMatch(/^passgate_[0-9a-f]{32}$/);
    expect(sent[0]).toBe(sent[1]);
    expect(sent[2]).not.toBe(sent[0]);
    const held = (await prepared(pool)).find((p) => p.name === sent[0]);
    expect(held).toMatchObject({ statement: text, runs: 2 });
  });
});
