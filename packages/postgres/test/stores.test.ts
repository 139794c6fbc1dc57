import { isPassgateError } from '@passgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate, type PostgresStores } from '../src/index.js';
import { account, b64u, credential, dropSchema, newPool, randomSchema } from './helpers.js';

const pool = newPool({ max: 12 });
const schema = randomSchema('stores');
let stores: PostgresStores;

beforeAll(async () => {
  await migrate({ pool, schema });
  stores = createPostgresStores({ pool, schema });
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('challenges', () => {
  it('put, then a single consume', async () => {
    const id = b64u();
    expect(await stores.challenges.put(id, '{"a":"😀 ü \\u0000"}', 60_000)).toBe(true);
    expect(await stores.challenges.put(id, 'other', 60_000)).toBe(false);
    expect(await stores.challenges.consume(id)).toBe('{"a":"😀 ü \\u0000"}');
    expect(await stores.challenges.consume(id)).toBeNull();
  });

  it('keeps 64 KiB values', async () => {
    const id = b64u();
    const value = 'é'.repeat(32 * 1024);
    expect(await stores.challenges.put(id, value, 60_000)).toBe(true);
    expect(await stores.challenges.consume(id)).toBe(value);
  });

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

  it('of 20 concurrent consumes exactly one gets the value', async () => {
    const id = b64u();
    await stores.challenges.put(id, 'v', 60_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => stores.challenges.consume(id)));
    expect(results.filter((r) => r === 'v')).toHaveLength(1);
  });

  it('of 20 concurrent puts exactly one stores', async () => {
    const id = b64u();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores.challenges.put(id, `v${i}`, 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('rejects a non-positive or fractional ttl', async () => {
    await expect(stores.challenges.put(b64u(), 'v', 0)).rejects.toThrow(RangeError);
    await expect(stores.challenges.put(b64u(), 'v', 1.5)).rejects.toThrow(RangeError);
  });
});

describe('accounts and credentials', () => {
  it('round-trips an account and its credential exactly', async () => {
    const a = account({ username: 'Ünïcödé 😀 name', displayName: 'Ünï 😀' });
    const c = credential(a.userHandle, {
      counter: 4_294_967_295,
      algorithm: -257,
      transports: ['usb', 'nfc', 'smart-card'],
      backupEligible: false,
      backedUp: false,
      aaguid: 'adce0002-35bc-c60a-648b-0b25f1f05503',
      attestationFormat: 'packed',
      nickname: 'My key 🔑',
      lastUsedAt: new Date(Date.UTC(2025, 5, 6, 7, 8, 9, 1)),
      publicKey: new Uint8Array([0, 1, 2, 255, 0]),
    });
    await stores.accounts.create(a, c);
    expect(await stores.accounts.findByUserId(a.userId)).toEqual(a);
    expect(await stores.accounts.findByUserHandle(a.userHandle)).toEqual(a);
    expect(await stores.accounts.findByUsername(a.username)).toEqual(a);
    const found = await stores.credentials.findById(c.id);
    expect(found).toEqual(c);
    expect(found?.publicKey.constructor).toBe(Uint8Array);
    expect(await stores.credentials.listByUserHandle(a.userHandle)).toEqual([c]);
  });

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

  it('maps unique violations and writes nothing on any of them', async () => {
    const a = account();
    const c = credential(a.userHandle);
    await stores.accounts.create(a, c);

    const sameName = account({ username: a.username });
    await expect(stores.accounts.create(sameName, credential(sameName.userHandle))).rejects.toMatchObject({
      code: 'username_taken',
    });
    expect(await stores.accounts.findByUserId(sameName.userId)).toBeNull();

    const sameCred = account();
    await expect(
      stores.accounts.create(sameCred, credential(sameCred.userHandle, { id: c.id })),
    ).rejects.toMatchObject({ code: 'credential_exists' });
    expect(await stores.accounts.findByUserId(sameCred.userId)).toBeNull();

    const sameHandle = account({ userHandle: a.userHandle });
    const err = await stores.accounts.create(sameHandle, credential(a.userHandle)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isPassgateError(err)).toBe(false);
    expect(await stores.accounts.findByUserId(sameHandle.userId)).toBeNull();

    const sameUserId = account({ userId: a.userId });
    const err2 = await stores.accounts
      .create(sameUserId, credential(sameUserId.userHandle))
      .catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(Error);
    expect(isPassgateError(err2)).toBe(false);
    expect(await stores.accounts.findByUsername(sameUserId.username)).toBeNull();

    await expect(stores.credentials.create(credential(a.userHandle, { id: c.id }))).rejects.toMatchObject({
      code: 'credential_exists',
    });
  });

  it('of 10 concurrent sign-ups with one username exactly one resolves', async () => {
    const username = `race-${b64u(4)}`;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => {
        const a = account({ username });
        return stores.accounts.create(a, credential(a.userHandle));
      }),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'username_taken' });
    }
  });

  it('lists oldest first, ties broken by the id string', async () => {
    const a = account();
    const t = new Date(Date.UTC(2025, 1, 1));
    const first = credential(a.userHandle, { createdAt: new Date(t.getTime() - 1) });
    await stores.accounts.create(a, first);
    // ids whose base64url order differs from their byte order ('_' sorts after letters, '-' before)
    const tied = ['AAAA', '____', '----', 'zzzz', '0000'].map((id) =>
      credential(a.userHandle, { id: `${id}${b64u(3)}`, createdAt: t }),
    );
    for (const c of tied) await stores.credentials.create(c);
    const later = credential(a.userHandle, { createdAt: new Date(t.getTime() + 1) });
    await stores.credentials.create(later);
    const ids = (await stores.credentials.listByUserHandle(a.userHandle)).map((c) => c.id);
    expect(ids).toEqual([first.id, ...tied.map((c) => c.id).sort(), later.id]);
    expect(await stores.credentials.listByUserHandle(b64u(32))).toEqual([]);
  });

  it('updateAfterSignIn is a compare-and-set on the counter', async () => {
    const a = account();
    const c = credential(a.userHandle, { counter: 5 });
    await stores.accounts.create(a, c);
    const at = new Date(Date.UTC(2025, 3, 3, 3, 3, 3, 333));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        stores.credentials.updateAfterSignIn({
          id: c.id,
          expectedCounter: 5,
          counter: 6 + i,
          backedUp: false,
          lastUsedAt: at,
        }),
      ),
    );
    const applied = results.filter((r) => r !== null);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ backedUp: false, lastUsedAt: at });
    expect(await stores.credentials.findById(c.id)).toEqual(applied[0]);
    expect(
      await stores.credentials.updateAfterSignIn({
        id: c.id,
        expectedCounter: 5,
        counter: 99,
        backedUp: true,
        lastUsedAt: at,
      }),
    ).toBeNull();
    expect(
      await stores.credentials.updateAfterSignIn({
        id: b64u(),
        expectedCounter: 0,
        counter: 1,
        backedUp: true,
        lastUsedAt: at,
      }),
    ).toBeNull();
  });

  it('rename and delete are scoped by owner', async () => {
    const a = account();
    const b = account();
    const ca = credential(a.userHandle);
    const ca2 = credential(a.userHandle);
    const cb = credential(b.userHandle);
    await stores.accounts.create(a, ca);
    await stores.credentials.create(ca2);
    await stores.accounts.create(b, cb);
    expect(await stores.credentials.rename(b.userHandle, ca.id, 'stolen')).toBeNull();
    expect((await stores.credentials.findById(ca.id))?.nickname).toBeNull();
    expect(await stores.credentials.rename(a.userHandle, ca.id, 'mine')).toMatchObject({
      id: ca.id,
      nickname: 'mine',
    });
    expect(await stores.credentials.rename(a.userHandle, ca.id, null)).toMatchObject({ nickname: null });
    expect(await stores.credentials.delete(b.userHandle, ca.id, { allowLast: true })).toBe('not_found');
    expect(await stores.credentials.delete(b.userHandle, cb.id, { allowLast: false })).toBe(
      'last_credential',
    );
    expect(await stores.credentials.delete(a.userHandle, ca.id, { allowLast: false })).toBe('deleted');
    expect(await stores.credentials.delete(a.userHandle, ca.id, { allowLast: false })).toBe('not_found');
    expect(await stores.credentials.delete(a.userHandle, ca2.id, { allowLast: false })).toBe(
      'last_credential',
    );
    expect(await stores.credentials.delete(a.userHandle, ca2.id, { allowLast: true })).toBe('deleted');
    expect(await stores.credentials.listByUserHandle(a.userHandle)).toEqual([]);
  });

  it('concurrent deletes of the last credentials with allowLast=false leave one (x10 accounts)', async () => {
    for (let round = 0; round < 10; round++) {
      const a = account();
      const creds = [credential(a.userHandle), credential(a.userHandle), credential(a.userHandle)];
      await stores.accounts.create(a, creds[0]!);
      await stores.credentials.create(creds[1]!);
      await stores.credentials.create(creds[2]!);
      const results = await Promise.all(
        creds.map((c) => stores.credentials.delete(a.userHandle, c.id, { allowLast: false })),
      );
      expect(results.filter((r) => r === 'deleted')).toHaveLength(2);
      expect(results.filter((r) => r === 'last_credential')).toHaveLength(1);
      expect(await stores.credentials.listByUserHandle(a.userHandle)).toHaveLength(1);
    }
  });

  it('treats ids that are not canonical base64url as absent', async () => {
    for (const id of ['AB', 'a=', 'not base64', 'A', '+/+/']) {
      expect(await stores.credentials.findById(id)).toBeNull();
      expect(await stores.accounts.findByUserHandle(id)).toBeNull();
      expect(await stores.credentials.delete(id, id, { allowLast: true })).toBe('not_found');
    }
    await expect(stores.credentials.create(credential('AB'))).rejects.toThrow(TypeError);
  });

  it('returns fresh copies', async () => {
    const a = account();
    const c = credential(a.userHandle);
    await stores.accounts.create(a, c);
    const one = await stores.credentials.findById(c.id);
    one!.publicKey[0] = (one!.publicKey[0]! + 1) % 256;
    one!.transports.push('ble');
    expect(await stores.credentials.findById(c.id)).toEqual(c);
  });
});

describe('deleteExpiredChallenges', () => {
  it('removes only expired rows, and the sweeper runs it', async () => {
    const s = randomSchema('sweep');
    await migrate({ pool, schema: s });
    const own = createPostgresStores({ pool, schema: s });
    try {
      // A TTL long enough that none of the short rows can expire before the first sweep, even on a
      // slow database; then wait it out from the last short put (expiry is set by the database's now()).
      for (let i = 0; i < 5; i++) await own.challenges.put(`short-${i}`, 'v', 3000);
      const lastShortPutAt = Date.now();
      for (let i = 0; i < 3; i++) await own.challenges.put(`long-${i}`, 'v', 60_000);
      expect(await own.deleteExpiredChallenges()).toBe(0);
      await sleep(Math.max(0, lastShortPutAt + 3000 + 250 - Date.now()));
      expect(await own.deleteExpiredChallenges()).toBe(5);
      expect(await own.deleteExpiredChallenges()).toBe(0);
      const left = await pool.query(`SELECT id FROM "${s}".passgate_challenges ORDER BY id`);
      expect(left.rows.map((r) => r.id)).toEqual(['long-0', 'long-1', 'long-2']);
      expect(await own.challenges.consume('long-1')).toBe('v');

      await own.challenges.put('short-x', 'v', 20);
      const stop = own.startChallengeSweeper({ intervalMs: 25 });
      const deadline = Date.now() + 2000;
      let count = 1;
      while (Date.now() < deadline) {
        await sleep(25);
        count = (
          await pool.query(`SELECT count(*)::int AS n FROM "${s}".passgate_challenges WHERE id = 'short-x'`)
        ).rows[0].n;
        if (count === 0) break;
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
