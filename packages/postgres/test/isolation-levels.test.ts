import { randomBytes } from 'node:crypto';
import { isPassgateError } from '@passgate/core';
import { makeSignUp } from '@passgate/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, type PostgresStores } from '../src/index.js';
import { migratedSchemaForFile, newPool, onRefusedStatements, shuffled } from './helpers.js';

/**
 * The stores on a role whose default isolation level is REPEATABLE READ or SERIALIZABLE
 * (`ALTER ROLE … SET default_transaction_isolation`), batched and unbatched, from two pools (two
 * processes) at once. Each store call is one autocommit statement, so where READ COMMITTED waits for
 * a concurrent writer and goes on, these levels end the statement with 40001. Whatever the level:
 * a ceremony is handed out at most once (and never lost), a counter compare-and-set applies at most
 * once, a pending ceremony is never overwritten, every call settles, and a serialization failure
 * reaches the caller as `store_unavailable`, never as a raw pg error. (The stores' transactions run
 * at READ COMMITTED whatever the role's level: isolation-cap.test.ts.)
 * PASSGATE_ISO_STATS=1 prints how many statements each level refused and how many calls it failed.
 */

/** The schema is migrated and dropped at the default level (READ COMMITTED). */
const { pool: admin, schema, stores: setup } = migratedSchemaForFile('iso', { max: 4 });

const LEVELS = ['repeatable read', 'serializable'] as const;
const MODES = [
  ['batched', 32],
  ['unbatched', 0],
] as const;

/** SQLSTATEs a call may fail with when the level refuses it: serialization failure, deadlock. */
const REFUSED = ['40001', '40P01'];

/** A call that is still pending after this long fails the test (the file's timeout is 20 s). */
const PENDING_MS = 5_000;

const ceremonyId = () => randomBytes(24).toString('base64url');
const table = (name: string) => `"${schema}".passgate_${name}`;

/** Every SQLSTATE a pool's statements failed with, and whether the statement was a batch. */
interface Seen {
  one: string[];
  many: string[];
  /** The start of each statement that lost a deadlock. */
  deadlocked: string[];
}

/** All of `calls` settled, or a failure naming how many are still pending after `PENDING_MS`. */
async function settleAll<T>(calls: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  let pending = calls.length;
  for (const call of calls)
    call.then(
      () => pending--,
      () => pending--,
    );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`${pending} of ${calls.length} store calls still pending after ${PENDING_MS} ms`)),
      PENDING_MS,
    );
  });
  try {
    return await Promise.race([Promise.allSettled(calls), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How many calls ended `store_unavailable` (for the report). */
let refusedCalls = 0;

/** A rejection must be the typed `store_unavailable`, caused by the level's refusal. */
function expectRefusal(reason: unknown): void {
  refusedCalls++;
  if (!isPassgateError(reason, 'store_unavailable')) {
    throw new Error(`expected a store_unavailable PassgateError, got ${String(reason)}`, { cause: reason });
  }
  expect(REFUSED).toContain((reason.cause as { code?: unknown } | undefined)?.code);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The challenge rows left of `ids`, read directly: id → value. */
async function pendingValues(ids: string[]): Promise<Map<string, string>> {
  const { rows } = await admin.query<{ id: string; value: string }>(
    `SELECT id, value FROM ${table('challenges')} WHERE id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.value]));
}

/** One turn's worth of calls: each tagged with the row it races for. */
interface Attempt<T> {
  key: string;
  run(): Promise<T>;
}

/** Starts every attempt in one turn; returns each key's fulfilled values and counts its refusals. */
async function race<T>(attempts: Attempt<T>[]) {
  const order = shuffled(attempts);
  const results = await settleAll(order.map((attempt) => attempt.run()));
  const byKey = new Map<string, { values: T[]; refused: number }>();
  for (const [i, result] of results.entries()) {
    const key = (order[i] as Attempt<T>).key;
    const entry = byKey.get(key) ?? { values: [], refused: 0 };
    byKey.set(key, entry);
    if (result.status === 'fulfilled') {
      entry.values.push(result.value);
    } else {
      expectRefusal(result.reason);
      entry.refused++;
    }
  }
  return byKey;
}

const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

for (const level of LEVELS) {
  describe(`default_transaction_isolation = ${level}`, () => {
    // Two pools: two processes, each with its own batchers. Every connection runs at `level`.
    // deadlock_timeout 100 ms (superuser-settable): two batched puts that share ids in different
    // orders deadlock (at READ COMMITTED too: the batched insert takes its ids in call order), and
    // the default 1 s per deadlock would dominate the file's run time. The batch is then rerun.
    const options = `-c default_transaction_isolation=${level.replace(' ', '\\ ')} -c deadlock_timeout=100ms`;
    const [poolA, poolB] = [newPool({ max: 10, options }), newPool({ max: 10, options })];
    pools.push(poolA, poolB);
    const seen: Seen = { one: [], many: [], deadlocked: [] };
    /** A batch statement takes its calls' parameters as arrays and unnests them. */
    const record = (code: string, text: string) => {
      (text.includes('unnest') ? seen.many : seen.one).push(code);
      if (code === '40P01') seen.deadlocked.push(text.replace(/\s+/g, ' ').slice(0, 80));
    };
    const storesOf = (batchStatements: number): [PostgresStores, PostgresStores] => [
      createPostgresStores({ pool: onRefusedStatements(poolA, record), schema, batchStatements }),
      createPostgresStores({ pool: onRefusedStatements(poolB, record), schema, batchStatements }),
    ];
    /** Ceremonies no call got, each still pending afterwards (counted for the report). */
    let unclaimed = 0;
    beforeAll(() => {
      refusedCalls = 0;
    });

    it('runs every connection of both pools at the level', async () => {
      const shown = await Promise.all(
        [poolA, poolB].flatMap((pool) =>
          Array.from({ length: 10 }, () =>
            pool.query<{ l: string }>("SELECT current_setting('transaction_isolation') AS l"),
          ),
        ),
      );
      expect(new Set(shown.map((res) => res.rows[0]?.l))).toEqual(new Set([level]));
    });

    for (const [mode, batchStatements] of MODES) {
      const [a, b] = storesOf(batchStatements);

      it(`hands each ceremony to at most one of many concurrent consumes, never losing it (${mode})`, async () => {
        const { account, credential } = makeSignUp({ username: `iso-${randomBytes(6).toString('hex')}` });
        await setup.accounts.create(account, credential);
        for (let round = 0; round < 8; round++) {
          const ids = Array.from({ length: 10 }, ceremonyId);
          expect(await Promise.all(ids.map((id) => setup.challenges.put(id, `v ${id}`, 60_000)))).toEqual(
            ids.map(() => true),
          );
          const results = await race(
            ids.flatMap((id) => [
              ...[a, a, b, b].map((s) => ({
                key: id,
                run: async () => (await s.signIn.consumeForSignIn(id, credential.id)).ceremony,
              })),
              // A plain consume is sent at once, ahead of the batches, so in half the rounds it
              // waits a turn: the batched statements then reach the rows first.
              ...[a, b].map((s) => ({
                key: id,
                run: () =>
                  (round % 2 === 0 ? nextTurn() : Promise.resolve()).then(() => s.challenges.consume(id)),
              })),
            ]),
          );
          const left = await pendingValues(ids);
          for (const id of ids) {
            const got = (results.get(id)?.values ?? []).filter((value) => value !== null);
            expect(got.length, `ceremony ${id} handed out ${got.length} times`).toBeLessThanOrEqual(1);
            if (got.length === 1) {
              expect(got[0]).toBe(`v ${id}`);
              expect(left.has(id)).toBe(false);
            } else {
              // Every call refused: the ceremony is still pending, intact, never consumed unseen.
              expect(results.get(id)?.refused).toBeGreaterThan(0);
              expect(left.get(id)).toBe(`v ${id}`);
              unclaimed++;
            }
          }
          await admin.query(`DELETE FROM ${table('challenges')} WHERE id = ANY($1::text[])`, [ids]);
        }
      });

      it(`applies at most one of concurrent counter updates with one expected counter (${mode})`, async () => {
        const users = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const made = makeSignUp({ username: `iso-${randomBytes(6).toString('hex')}` });
            await setup.accounts.create(made.account, made.credential);
            return made;
          }),
        );
        const keys = users.map(({ credential }) => Buffer.from(credential.id, 'base64url'));
        const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
        for (let round = 0; round < 8; round++) {
          const expected = round * 10;
          await admin.query(`UPDATE ${table('credentials')} SET counter = $1 WHERE id = ANY($2::bytea[])`, [
            expected,
            keys,
          ]);
          const results = await race(
            users.flatMap(({ credential }) =>
              [a, a, a, b, b, b].map((s, copy) => ({
                key: credential.id,
                run: async () => {
                  const counter = expected + 1 + copy;
                  const updated = await s.credentials.updateAfterSignIn({
                    id: credential.id,
                    expectedCounter: expected,
                    counter,
                    backedUp: copy % 2 === 0,
                    lastUsedAt: at,
                  });
                  if (updated !== null) expect(updated.id).toBe(credential.id);
                  return updated === null ? null : counter;
                },
              })),
            ),
          );
          const { rows } = await admin.query<{ id: Buffer; counter: string }>(
            `SELECT id, counter FROM ${table('credentials')} WHERE id = ANY($1::bytea[])`,
            [keys],
          );
          const stored = new Map(rows.map((row) => [row.id.toString('base64url'), Number(row.counter)]));
          for (const { credential } of users) {
            const applied = (results.get(credential.id)?.values ?? []).filter((value) => value !== null);
            expect(
              applied.length,
              `counter of ${credential.id} set ${applied.length} times`,
            ).toBeLessThanOrEqual(1);
            if (applied.length === 1) {
              expect(stored.get(credential.id)).toBe(applied[0]);
            } else {
              expect(results.get(credential.id)?.refused).toBeGreaterThan(0);
              expect(stored.get(credential.id)).toBe(expected);
            }
          }
        }
      });

      it(`stores at most one of concurrent puts of one id, and keeps its value (${mode})`, async () => {
        for (let round = 0; round < 6; round++) {
          const ids = Array.from({ length: 10 }, ceremonyId);
          const results = await race(
            ids.flatMap((id) =>
              [a, a, a, b, b, b].map((s, copy) => ({
                key: id,
                run: async () => ((await s.challenges.put(id, `${copy} ${id}`, 60_000)) ? copy : null),
              })),
            ),
          );
          const left = await pendingValues(ids);
          for (const id of ids) {
            const stored = (results.get(id)?.values ?? []).filter((copy) => copy !== null);
            expect(stored.length, `ceremony ${id} stored ${stored.length} times`).toBeLessThanOrEqual(1);
            expect(left.get(id) ?? null).toBe(stored.length === 1 ? `${stored[0]} ${id}` : null);
            // Nothing stored: every put was refused (false would claim a pending ceremony that is not there).
            if (stored.length === 0) expect(results.get(id)?.values).toEqual([]);
          }
          await admin.query(`DELETE FROM ${table('challenges')} WHERE id = ANY($1::text[])`, [ids]);
        }
      });
    }

    it('met serialization failures (the races above ran into the level, not past it)', () => {
      const failures = [...seen.one, ...seen.many];
      if (process.env['PASSGATE_ISO_STATS']) {
        const count = (codes: string[]) =>
          Object.entries(
            codes.reduce<Record<string, number>>((acc, code) => {
              acc[code] = (acc[code] ?? 0) + 1;
              return acc;
            }, {}),
          );
        console.info(level, {
          lone: count(seen.one),
          batched: count(seen.many),
          deadlocked: seen.deadlocked,
          refusedCalls,
          unclaimed,
        });
      }
      expect(failures.filter((code) => !REFUSED.includes(code))).toEqual([]);
      expect(failures.filter((code) => code === '40001').length).toBeGreaterThan(0);
    });
  });
}
