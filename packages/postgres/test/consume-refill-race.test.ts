import { randomBytes } from 'node:crypto';
import { makeSignUp } from '@passgate/testing';
import { expect, it } from 'vitest';
import { migratedSchemaForFile } from './helpers.js';

/**
 * A batched consume meeting a put that re-fills an expired ceremony with the same id. The put decides
 * expiry by its own statement's clock, which can run ahead of the consume's: the consume's snapshot
 * still sees the old value as pending when the put replaces it. PostgreSQL releases differ on what
 * the batched DELETE (by ctid) then does with the new row version: those with the TID scan's recheck
 * fix (the 15.20 this is written on) skip it, older ones consume it. Either way the rule holds that
 * this test checks: the old, expired value is never handed out, and the new one exactly once.
 *
 * The race is made to happen, not hoped for: another transaction holds a row lock on a ceremony the
 * same batch consumes first (the TID scan takes the rows in ctid order), so the consume waits there,
 * with its snapshot taken, while the put re-fills the expired row and commits.
 */

const { pool, schema, stores } = migratedSchemaForFile('refill');
const table = `"${schema}".passgate_challenges`;
const ceremonyId = () => randomBytes(32).toString('base64url');

/** Resolves once a backend running a statement that matches `pattern` (LIKE) waits on a lock. */
async function waitingOnLock(pattern: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
      [pattern],
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the consume never waited on the row lock');
}

it('hands out a re-filled ceremony once and its expired value never, when the put commits inside a batched consume', async () => {
  const made = makeSignUp({ username: `refill-${randomBytes(4).toString('hex')}` });
  await stores.accounts.create(made.account, made.credential);
  const [held, refilled] = [ceremonyId(), ceremonyId()];
  // Inserted in this order into an empty table: `held` has the lower ctid, so the batch reaches it first.
  expect(await stores.challenges.put(held, 'held', 60_000)).toBe(true);
  const ttlMs = 1_500;
  expect(await stores.challenges.put(refilled, 'old', ttlMs)).toBe(true);
  const { rows: order } = await pool.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY ctid`);
  expect(order.map((row) => row.id)).toEqual([held, refilled]);

  const locker = await pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [held]);
    // One turn, two distinct ceremonies: one batched statement, whose clock has `old` pending.
    const batch = Promise.all([
      stores.signIn.consumeForSignIn(held, made.credential.id),
      stores.signIn.consumeForSignIn(refilled, made.credential.id),
    ]);
    await waitingOnLock(`%unnest%${schema}%`);
    // Once `old` has expired by a later clock, the put takes the row over and commits.
    const { rows } = await pool.query<{ left: number }>(
      `SELECT extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS left FROM ${table} WHERE id = $1`,
      [refilled],
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(rows[0]?.left)) + 50));
    expect(await stores.challenges.put(refilled, 'new', 60_000)).toBe(true);
    await locker.query('COMMIT');

    const [heldReads, refilledReads] = await batch;
    expect(heldReads.ceremony).toBe('held');
    const later = await stores.challenges.consume(refilled);
    const handedOut = [refilledReads.ceremony, later].filter((value) => value !== null);
    expect(handedOut).toEqual(['new']);
    expect(await stores.challenges.consume(refilled)).toBeNull();
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }
});
