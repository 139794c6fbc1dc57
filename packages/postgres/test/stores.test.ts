import { describe, expect, it } from 'vitest';
import { createPostgresStores, migrate, type PostgresPool } from '../src/index.js';
import { account, b64u, credential, dropSchema, migratedSchemaForFile, randomSchema } from './helpers.js';

const { pool, schema, stores } = migratedSchemaForFile('stores', { max: 12 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('challenges', () => {
  it('expires by the database clock, and an expired id can be put again', async () => {
    const id = b64u();
    expect(await stores.challenges.put(id, 'first', 50)).toBe(true);
    await sleep(120);
    expect(await stores.challenges.put(id, 'second', 60_000)).toBe(true);
    expect(await stores.challenges.consume(id)).toBe('second');
    expect(await stores.challenges.put(id, 'third', 50)).toBe(true);
    await sleep(120);
    expect(await stores.challenges.consume(id)).toBeNull();
  });

  it('rejects a non-positive, fractional or unsafe ttl, as the memory and Redis stores do', async () => {
    await expect(stores.challenges.put(b64u(), 'v', 0)).rejects.toThrow(RangeError);
    await expect(stores.challenges.put(b64u(), 'v', 1.5)).rejects.toThrow(RangeError);
    await expect(stores.challenges.put(b64u(), 'v', 2 ** 53)).rejects.toThrow(RangeError);
  });
});

// What every store must do (round trips, uniqueness, ordering, counters, ownership, concurrency,
// copies) is the conformance suite's (conformance.test.ts); here only what is PostgreSQL's own.
describe('accounts and credentials', () => {
  it('stores ids as bytea', async () => {
    const a = account();
    const c = credential(a.userHandle);
    await stores.accounts.create(a, c);
    const res = await pool.query(
      `SELECT id, user_handle FROM "${schema}".passgate_credentials WHERE id = $1`,
      [Buffer.from(c.id, 'base64url')],
    );
    expect(res.rows[0].id).toEqual(Buffer.from(c.id, 'base64url'));
    expect(res.rows[0].user_handle).toEqual(Buffer.from(a.userHandle, 'base64url'));
  });

  it('treats ids that are not canonical base64url as absent', async () => {
    for (const id of ['AB', 'a=', 'not base64', 'A', '+/+/']) {
      expect(await stores.credentials.findById(id)).toBeNull();
      expect(await stores.accounts.findByUserHandle(id)).toBeNull();
      expect(await stores.credentials.delete(id, id, { allowLast: true })).toBe('not_found');
    }
    await expect(stores.credentials.create(credential('AB'))).rejects.toThrow(TypeError);
  });
});

describe('deleteExpiredChallenges', () => {
  it('removes only expired rows, and the sweeper runs it', async () => {
    const s = randomSchema('sweep');
    await migrate({ pool, schema: s });
    const own = createPostgresStores({ pool, schema: s });
    try {
      // Expired rows (1 ms TTL; the 10 ms wait moves the database's now() past them) and rows pending
      // for a minute.
      for (let i = 0; i < 3; i++) await own.challenges.put(`long-${i}`, 'v', 60_000);
      for (let i = 0; i < 5; i++) await own.challenges.put(`short-${i}`, 'v', 1);
      await sleep(10);
      // In one transaction, rows due in 3 s and a sweep: now() stands still inside a transaction,
      // so the sweep runs exactly 3 s before they expire however slow the machine is. A sweep that
      // took rows due soon is seen, and no load can make them expire before it. Rolled back: those
      // rows would expire during the rest of the test.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inTransaction = createPostgresStores({
          pool: {
            query: client.query.bind(client) as PostgresPool['query'],
            connect: () => Promise.reject(new Error('only single statements run in this transaction')),
          },
          schema: s,
        });
        for (let i = 0; i < 2; i++) {
          expect(await inTransaction.challenges.put(`due-soon-${i}`, 'v', 3000)).toBe(true);
        }
        expect(await inTransaction.deleteExpiredChallenges()).toBe(5);
        expect(await inTransaction.deleteExpiredChallenges()).toBe(0);
        const kept = await client.query(`SELECT id FROM "${s}".passgate_challenges ORDER BY id`);
        expect(kept.rows.map((r) => r.id)).toEqual([
          'due-soon-0',
          'due-soon-1',
          'long-0',
          'long-1',
          'long-2',
        ]);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
      // The same outside a transaction, on the rows as they were before it.
      expect(await own.deleteExpiredChallenges()).toBe(5);
      expect(await own.deleteExpiredChallenges()).toBe(0);
      const left = await pool.query(`SELECT id FROM "${s}".passgate_challenges ORDER BY id`);
      expect(left.rows.map((r) => r.id)).toEqual(['long-0', 'long-1', 'long-2']);
      expect(await own.challenges.consume('long-1')).toBe('v');

      await own.challenges.put('short-x', 'v', 20);
      const stop = own.startChallengeSweeper({ intervalMs: 25 });
      // Counted in polls rather than milliseconds: a loaded machine stretches the sweeper's timer
      // and these waits alike.
      let count = 1;
      for (let polls = 0; count > 0 && polls < 400; polls++) {
        await sleep(25);
        count = (
          await pool.query(`SELECT count(*)::int AS n FROM "${s}".passgate_challenges WHERE id = 'short-x'`)
        ).rows[0].n;
      }
      stop();
      expect(count).toBe(0);
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${s}".passgate_challenges`)).rows[0].n).toBe(
        2,
      );
    } finally {
      await dropSchema(pool, s);
    }
  });
});
