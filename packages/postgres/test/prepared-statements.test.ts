import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  type PostgresPool,
  type PostgresStores,
  withPreparedQueries,
} from '../src/index.js';
import { account, b64u, credential, dropSchema, newPool, onSentQueries, randomSchema } from './helpers.js';

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
  return onSentQueries(inner, (config) => sent.push(typeof config === 'string' ? null : config.name));
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

/** What the connection holds: each prepared statement, how often it ran, and with which plans. */
async function prepared(
  pool: pg.Pool,
): Promise<{ name: string; statement: string; runs: number; generic: number; custom: number }[]> {
  const res = await pool.query<{ name: string; statement: string; generic: string; custom: string }>(
    `SELECT name, statement, generic_plans AS generic, custom_plans AS custom
       FROM pg_prepared_statements ORDER BY name`,
  );
  return res.rows.map((r) => ({
    name: r.name,
    statement: r.statement,
    runs: Number(r.generic) + Number(r.custom),
    generic: Number(r.generic),
    custom: Number(r.custom),
  }));
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

describe('batched statements', () => {
  it('settle on one generic plan per connection instead of being planned again for every batch', async () => {
    // PostgreSQL plans a prepared statement's first five runs for their values, then keeps a
    // generic plan, unless the plans for the values cost less: a statement whose cost follows its
    // arrays' length (known from the values, assumed 10 without them) would be planned again on
    // every run. Measured in the bench before the batched consume was written against that: about
    // 15% of the database's CPU went to planning it.
    const pool = onePool();
    const stores = createPostgresStores({ pool: recording(pool), schema: schemas[0]! });
    const owners = [account(), account()];
    const keys = owners.map((owner) => credential(owner.userHandle, { counter: 0 }));
    for (const [i, owner] of owners.entries()) await stores.accounts.create(owner, keys[i]!);
    const before = new Set((await prepared(pool)).map((p) => p.name));
    for (let round = 0; round < 8; round++) {
      const ceremonies = [b64u(), b64u()];
      expect(await Promise.all(ceremonies.map((id) => stores.challenges.put(id, 'state', 60_000)))).toEqual([
        true,
        true,
      ]);
      const reads = await Promise.all(
        ceremonies.map((id, i) => stores.signIn.consumeForSignIn(id, keys[i]!.id)),
      );
      expect(reads.map((r) => r.ceremony)).toEqual(['state', 'state']);
      const updated = await Promise.all(
        keys.map((key) =>
          stores.credentials.updateAfterSignIn({
            id: key.id,
            expectedCounter: round,
            counter: round + 1,
            backedUp: false,
            lastUsedAt: new Date(),
          }),
        ),
      );
      expect(updated.map((c) => c?.counter)).toEqual([round + 1, round + 1]);
    }
    const batched = (await prepared(pool)).filter(
      (p) => !before.has(p.name) && p.statement.includes('unnest'),
    );
    // The put, the consume and the counter update, each run 8 times (two calls per run).
    expect(batched).toHaveLength(3);
    for (const p of batched) {
      const which = p.statement.slice(0, 60);
      expect(p.custom, which).toBe(5);
      expect(p.generic, which).toBe(3);
    }
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
