import { randomBytes } from 'node:crypto';
import type { StoredCredential } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStores, type PostgresStores } from '../src/index.js';
import { lockWaiters, migratedSchemaForFile, newPool, onRefusedStatements, shuffled } from './helpers.js';

/**
 * `batchStatements` under races, on the real server: single use and compare-and-set must hold
 * whatever mix of batched statements (one turn's calls split by key), lone statements, unbatched
 * stores and a second pool (another process) reach the same rows at once.
 */

const { pool, schema, stores } = migratedSchemaForFile('races', { max: 20 });
const other = newPool({ max: 10 });
/** Another process: its own pool and batchers on the same schema. */
const remote = createPostgresStores({ pool: other, schema });
const unbatched = createPostgresStores({ pool, schema, batchStatements: 0 });
const unprepared = createPostgresStores({ pool, schema, preparedStatements: false });

afterAll(async () => {
  await other.end();
});

const ceremonyId = () => randomBytes(32).toString('base64url');

async function signUp(into: PostgresStores = stores) {
  const made = makeSignUp({ username: `race-${randomBytes(6).toString('hex')}` });
  await into.accounts.create(made.account, made.credential);
  return made;
}

describe('single use under batching', () => {
  it('hands each ceremony out once, whatever mix of batches, lone statements and processes race for it', async () => {
    const { credential } = await signUp();
    for (let round = 0; round < 16; round++) {
      const ids = Array.from({ length: 12 }, ceremonyId);
      expect(await Promise.all(ids.map((id) => stores.challenges.put(id, `value ${id}`, 60_000)))).toEqual(
        ids.map(() => true),
      );
      // All made in one turn: each stores instance's batcher splits the copies of an id across
      // statements that run at once. Every other round adds plain consumes and unbatched verifies,
      // sent either at once (ahead of the batches) or right after them (the same check phase).
      const later =
        <T>(run: () => Promise<T>) =>
        () =>
          Math.random() < 0.5 ? run() : new Promise<void>((resolve) => setImmediate(resolve)).then(run);
      const mixed = round % 2 === 1;
      const attempts = shuffled(
        ids.flatMap((id) => [
          ...[0, 1, 2].map(() => ({ id, run: () => stores.signIn.consumeForSignIn(id, credential.id) })),
          ...[0, 1].map(() => ({ id, run: () => remote.signIn.consumeForSignIn(id, credential.id) })),
          ...(mixed
            ? [
                { id, run: later(async () => ({ ceremony: await stores.challenges.consume(id) })) },
                { id, run: later(async () => ({ ceremony: await remote.challenges.consume(id) })) },
                { id, run: later(() => unbatched.signIn.consumeForSignIn(id, credential.id)) },
              ]
            : []),
        ]),
      );
      const results = await Promise.all(attempts.map((attempt) => attempt.run()));
      for (const id of ids) {
        const got = results
          .filter((_, i) => attempts[i]?.id === id)
          .map((read) => read.ceremony)
          .filter((value) => value !== null);
        expect(got).toEqual([`value ${id}`]);
      }
    }
  });

  it('never hands one ceremony to two calls of one batch, also for ids PostgreSQL stores as the same text', async () => {
    const { credential } = await signUp();
    const base = ceremonyId();
    // node-postgres sends strings as UTF-8, which turns a lone surrogate into U+FFFD: these three
    // JavaScript strings are one row to the database (as they are to an unbatched consume).
    expect(await stores.challenges.put(`${base}\uFFFD`, 'once', 60_000)).toBe(true);
    const reads = await Promise.all([
      stores.signIn.consumeForSignIn(`${base}\uD800`, credential.id),
      stores.signIn.consumeForSignIn(`${base}\uDC00`, credential.id),
      stores.signIn.consumeForSignIn(`${base}\uFFFD`, credential.id),
    ]);
    expect(reads.map((read) => read.ceremony).filter((value) => value !== null)).toEqual(['once']);
  });

  it('reports a batched put of such an id as stored, as the unbatched put does', async () => {
    const base = ceremonyId();
    const stored = await Promise.all([
      stores.challenges.put(`${base}\uD800`, 'lone surrogate', 60_000),
      stores.challenges.put(ceremonyId(), 'neighbour', 60_000),
    ]);
    expect(stored).toEqual([true, true]);
    expect(await stores.challenges.consume(`${base}\uFFFD`)).toBe('lone surrogate');
  });

  it('reruns a refused consume batch call by call: the neighbours consume theirs, once', async () => {
    const { credential } = await signUp();
    const [a, b] = [ceremonyId(), ceremonyId()];
    await Promise.all([a, b].map((id) => stores.challenges.put(id, `value ${id}`, 60_000)));
    const results = await Promise.allSettled([
      stores.signIn.consumeForSignIn(a, credential.id),
      // PostgreSQL text cannot hold U+0000: the whole batch statement is refused (22021).
      stores.signIn.consumeForSignIn(`${b}\u0000`, credential.id),
      stores.signIn.consumeForSignIn(b, credential.id),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reads = [results[0], results[2]].map(
      (result) => (result as PromiseFulfilledResult<{ ceremony: string | null }>).value.ceremony,
    );
    expect(reads).toEqual([`value ${a}`, `value ${b}`]);
    expect(await stores.challenges.consume(a)).toBeNull();
    expect(await stores.challenges.consume(b)).toBeNull();
  });
});

describe('compare-and-set under batching', () => {
  it('applies exactly one of racing updates with one expected counter, across batches and processes', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => signUp()));
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    for (let round = 0; round < 10; round++) {
      const expected = round * 100;
      const attempts = shuffled(
        users.flatMap(({ credential }) =>
          [stores, stores, stores, remote, remote, unbatched].map((into, copy) => ({
            id: credential.id,
            counter: expected + 100 + copy,
            run: () =>
              into.credentials.updateAfterSignIn({
                id: credential.id,
                expectedCounter: expected,
                counter: expected + 100 + copy,
                backedUp: copy % 2 === 0,
                lastUsedAt: at,
              }),
          })),
        ),
      );
      // The counters of round r are r * 100 + 100..105: round r + 1 expects r * 100 + 100, so only the
      // credentials whose copy 0 won take part; the others have moved on and every attempt fails.
      const results = await Promise.all(attempts.map((attempt) => attempt.run()));
      for (const { credential } of users) {
        const applied = results.filter((result, i) => attempts[i]?.id === credential.id && result !== null);
        const stored = await stores.credentials.findById(credential.id);
        if (applied.length === 0) {
          expect(stored?.counter).not.toBe(expected);
          continue;
        }
        expect(applied).toHaveLength(1);
        expect(applied[0]?.id).toBe(credential.id);
        expect(stored?.counter).toBe(applied[0]?.counter);
      }
      // Reset every counter to the next round's expectation.
      await pool.query(
        `UPDATE "${schema}".passgate_credentials SET counter = $1 WHERE id = ANY($2::bytea[])`,
        [expected + 100, users.map(({ credential }) => Buffer.from(credential.id, 'base64url'))],
      );
    }
  });

  it('applies every racing update whose counter equals the expected one while the counter matches', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => signUp()));
    const at = new Date();
    const results = await Promise.all(
      users.flatMap(({ credential }) =>
        [stores, stores, stores, remote, unbatched].map((into) =>
          into.credentials.updateAfterSignIn({
            id: credential.id,
            expectedCounter: 0,
            counter: 0,
            backedUp: true,
            lastUsedAt: at,
          }),
        ),
      ),
    );
    expect(results.every((result) => result !== null && result.counter === 0)).toBe(true);
    // Each call got its own credential back.
    expect(results.map((result) => result?.id)).toEqual(
      users.flatMap(({ credential }) => Array.from({ length: 5 }, () => credential.id)),
    );
  });

  it('gives a call whose expectation failed null, beside a call on the same credential that applies', async () => {
    const [user, neighbour] = await Promise.all([signUp(), signUp()]);
    const id = user.credential.id;
    const at = new Date();
    const update = (credentialId: string, expectedCounter: number, counter: number) =>
      stores.credentials.updateAfterSignIn({
        id: credentialId,
        expectedCounter,
        counter,
        backedUp: true,
        lastUsedAt: at,
      });
    const results = await Promise.all([
      update(id, 5, 6), // fails: the counter is 0
      update(neighbour.credential.id, 0, 3),
      update(id, 0, 1), // applies (same credential: a second statement)
      update(id, 1, 2), // a third statement: applies only if it runs after the one above
    ]);
    expect(results[0]).toBeNull();
    expect(results[1]?.counter).toBe(3);
    expect(results[2]?.counter).toBe(1);
    // Runs concurrently with results[2]'s statement: it applies only if that one committed first.
    const stored = await stores.credentials.findById(id);
    expect(stored?.counter).toBe(results[3] === null ? 1 : 2);
  });
});

describe('lock order under batching', () => {
  it('a batched counter update of two passkeys never deadlocks with a guarded delete of one', async () => {
    /** The start of every statement of `observed` that lost a deadlock (40P01). */
    const deadlocks: string[] = [];
    const observed = createPostgresStores({
      schema,
      pool: onRefusedStatements(pool, (code, text) => {
        if (code === '40P01') deadlocks.push(text.slice(0, 60));
      }),
    });
    // Two passkeys of one account, the higher id stored first: a hash join would meet (and lock)
    // it first, while the delete locks the account's rows in id order.
    const byId = [makeCredential(), makeCredential()].sort((a, b) =>
      Buffer.compare(Buffer.from(a.id, 'base64url'), Buffer.from(b.id, 'base64url')),
    );
    const [low, high] = byId as [ReturnType<typeof makeCredential>, ReturnType<typeof makeCredential>];
    const { account } = makeSignUp({ username: `lock-${randomBytes(6).toString('hex')}` });
    await stores.accounts.create(account, { ...high, userHandle: account.userHandle });
    await stores.credentials.create({ ...low, userHandle: account.userHandle });

    // Holds the lower row, so the delete waits for it first and the batch queues behind.
    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".passgate_credentials WHERE id = $1 FOR UPDATE`, [
        Buffer.from(low.id, 'base64url'),
      ]);
      const deleted = observed.credentials.delete(account.userHandle, low.id, { allowLast: false });
      // Waiters on this file's schema only: other test files wait on locks of their own meanwhile.
      await lockWaiters(pool, `%"${schema}"%`, { tries: 500 });
      const at = new Date();
      const updated = Promise.all(
        [low, high].map((credential) =>
          observed.credentials.updateAfterSignIn({
            id: credential.id,
            expectedCounter: 0,
            counter: 1,
            backedUp: true,
            lastUsedAt: at,
          }),
        ),
      );
      await lockWaiters(pool, `%"${schema}"%`, { count: 2, tries: 500 });
      await blocker.query('ROLLBACK');
      const [deleteResult, updates] = await Promise.allSettled([deleted, updated]);
      // Without the batch's own id-ordered lock, one side ends with 40P01 after deadlock_timeout:
      // the delete as store_unavailable, or the batch, which is then rerun call by call.
      expect(deadlocks).toEqual([]);
      expect(deleteResult).toEqual({ status: 'fulfilled', value: 'deleted' });
      const [lowUpdate, highUpdate] = (updates as PromiseFulfilledResult<(StoredCredential | null)[]>).value;
      expect(lowUpdate).toBeNull(); // deleted before the batch could lock it
      expect(highUpdate?.counter).toBe(1);
    } finally {
      blocker.release();
    }
  });
});

describe('array parameters', () => {
  const awkward = [
    'a"b',
    'a\\b',
    '\\\\x00',
    '{a,b}',
    'NULL',
    'null',
    ' padded ',
    '',
    "it's",
    'ünïcödé',
    '😀 emoji',
    'tab\tnew\nline',
    '\\"}{,',
  ];

  for (const [label, into] of [
    ['prepared', () => stores],
    ['unprepared', () => unprepared],
  ] as const) {
    it(`keeps ids and values with quotes, backslashes, braces, NULL and Unicode exact (${label})`, async () => {
      const s = into();
      const { credential } = await signUp();
      const tag = randomBytes(4).toString('hex');
      const ids = awkward.map((text) => `${text}|${tag}`);
      expect(
        await Promise.all(ids.map((id, i) => s.challenges.put(id, `${awkward[i]}=${id}`, 60_000))),
      ).toEqual(ids.map(() => true));
      // The same ids once more: every one is pending, so none is stored again.
      expect(await Promise.all(ids.map((id) => s.challenges.put(id, 'again', 60_000)))).toEqual(
        ids.map(() => false),
      );
      const reads = await Promise.all(ids.map((id) => s.signIn.consumeForSignIn(id, credential.id)));
      expect(reads.map((read) => read.ceremony)).toEqual(ids.map((id, i) => `${awkward[i]}=${id}`));
      expect(reads.every((read) => read.credential?.id === credential.id)).toBe(true);
    });
  }

  it('maps each call of a large batch to its own row', async () => {
    const big = createPostgresStores({ pool, schema, batchStatements: 3000 });
    const users = await Promise.all(Array.from({ length: 20 }, () => signUp()));
    const ids = Array.from({ length: 3000 }, ceremonyId);
    expect(
      (await Promise.all(ids.map((id) => big.challenges.put(id, `v ${id}`, 60_000)))).every(Boolean),
    ).toBe(true);
    // Every call names its own ceremony and one of 20 credentials, or one that does not exist.
    const keys = ids.map(
      (_, i) => (i % 21 === 20 ? makeCredential().id : users[i % 21]?.credential.id) as string,
    );
    const reads = await Promise.all(ids.map((id, i) => big.signIn.consumeForSignIn(id, keys[i] as string)));
    for (const [i, read] of reads.entries()) {
      expect(read.ceremony).toBe(`v ${ids[i]}`);
      const user = i % 21 === 20 ? undefined : users[i % 21];
      expect(read.credential?.id ?? null).toBe(user?.credential.id ?? null);
      expect(read.account?.userHandle ?? null).toBe(user?.account.userHandle ?? null);
    }
    const at = new Date();
    const updates = await Promise.all(
      users.map(({ credential }, i) =>
        big.credentials.updateAfterSignIn({
          id: credential.id,
          expectedCounter: 0,
          counter: i + 1,
          backedUp: false,
          lastUsedAt: at,
        }),
      ),
    );
    expect(updates.map((u) => u?.counter)).toEqual(users.map((_, i) => i + 1));
    expect(updates.map((u) => u?.id)).toEqual(users.map(({ credential }) => credential.id));
  });
});
