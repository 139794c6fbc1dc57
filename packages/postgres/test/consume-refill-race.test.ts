import { randomBytes } from 'node:crypto';
import { makeSignUp } from '@passgate/testing';
import { expect, it } from 'vitest';
import { lockWaiters, migratedSchemaForFile } from './helpers.js';

/**
 * A batched consume meeting a put that re-fills an expired ceremony with the same id. The put decides
 * expiry by its own statement's clock, which can run ahead of the consume's: the consume's snapshot
 * still sees the old value as pending when the put replaces it. PostgreSQL then checks the batched
 * DELETE's conditions again on the new row version. Where the ctids are a filter (here, on a table
 * this small, the rows are taken through the key's index), or a TID scan with PostgreSQL's fix of
 * its recheck (15.20 has it), it skips that version; a TID scan without the fix consumes it. Either
 * way the rule holds that this test checks: the old, expired value is never handed out, and the new
 * one exactly once.
 *
 * The race is made to happen, not hoped for: another transaction holds a row lock on a ceremony the
 * same batch takes first (TID and bitmap scans take rows in ctid order, index scans in id order, and
 * the held ceremony comes first in both), so the consume waits there, with its snapshot taken, while
 * the put re-fills the expired row and commits.
 */

const { pool, schema, stores } = migratedSchemaForFile('refill');
const table = `"${schema}".passgate_challenges`;
const ceremonyId = (first: 'a' | 'b') => `${first}-${randomBytes(32).toString('base64url')}`;

it('hands out a re-filled ceremony once and its expired value never, when the put commits inside a batched consume', async () => {
  const made = makeSignUp({ username: `refill-${randomBytes(4).toString('hex')}` });
  await stores.accounts.create(made.account, made.credential);
  const [held, refilled] = [ceremonyId('a'), ceremonyId('b')];
  // Inserted in this order into an empty table: `held` has the lower ctid (and the lower id).
  expect(await stores.challenges.put(held, 'held', 60_000)).toBe(true);
  expect(await stores.challenges.put(refilled, 'old', 1_500)).toBe(true);
  const { rows: order } = await pool.query<{ id: string }>(
    `SELECT id FROM ${table} WHERE id = ANY($1) ORDER BY ctid`,
    [[held, refilled]],
  );
  expect(order.map((row) => row.id)).toEqual([held, refilled]);

  const locker = await pool.connect();
  let batch: Promise<unknown> | undefined;
  try {
    // A backstop: should the test fail while holding the lock, the server ends the transaction.
    await locker.query(`SET idle_in_transaction_session_timeout = '20s'`);
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [held]);
    // One turn, two distinct ceremonies: one batched statement.
    const consumes = Promise.all([
      stores.signIn.consumeForSignIn(held, made.credential.id),
      stores.signIn.consumeForSignIn(refilled, made.credential.id),
    ]);
    batch = consumes;
    const [{ xactStart: consumeClock }] = await lockWaiters(pool, `%unnest%${schema}%`);
    const { rows } = await pool.query<{ pending: boolean; left: number; untouched: boolean }>(
      `SELECT $2::timestamptz < expires_at AS pending, xmax = '0' AS untouched,
              extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS left
         FROM ${table} WHERE id = $1`,
      [refilled, consumeClock],
    );
    // By the consume's clock `old` is still pending, and the consume has not reached its row.
    expect(rows[0]).toMatchObject({ pending: true, untouched: true });
    // Once `old` has expired by a later clock, the put takes the row over and commits.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(rows[0]?.left)) + 50));
    expect(await stores.challenges.put(refilled, 'new', 60_000)).toBe(true);
    await locker.query('COMMIT');

    const [heldReads, refilledReads] = await consumes;
    expect(heldReads.ceremony).toBe('held');
    const later = await stores.challenges.consume(refilled);
    const handedOut = [refilledReads.ceremony, later].filter((value) => value !== null);
    expect(handedOut).toEqual(['new']);
    expect(await stores.challenges.consume(refilled)).toBeNull();
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release(true);
    await batch?.catch(() => undefined);
  }
});
