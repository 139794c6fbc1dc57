import { makeCredential, makeSignUp } from '@passgate/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate, type PostgresPool, type PostgresStores } from '../src/index.js';
import { dropSchema, newPool, onSentQueries, randomSchema } from './helpers.js';

/**
 * `batchStatements`: calls of one kind made in one turn of the event loop share one statement, on
 * the real server. Each test makes its calls synchronously one after the other (one turn) and checks
 * both what each call resolved and how many statements reached the pool.
 */

const schema = randomSchema('batch');
let pool: pg.Pool;
/** The text of every statement the stores sent, in order. */
let sent: string[] = [];
let stores: PostgresStores;
let unbatched: PostgresStores;

function recording(inner: pg.Pool): PostgresPool {
  return onSentQueries(inner, (config) => sent.push(typeof config === 'string' ? config : config.text));
}

const isPutMany = (text: string) => text.includes('INSERT') && text.includes('unnest');
const isConsumeMany = (text: string) => text.includes('DELETE') && text.includes('unnest');
const isUpdateMany = (text: string) => text.includes('UPDATE') && text.includes('unnest');

beforeAll(async () => {
  pool = newPool({ max: 20 });
  await migrate({ pool, schema });
  stores = createPostgresStores({ pool: recording(pool), schema });
  unbatched = createPostgresStores({ pool: recording(pool), schema, batchStatements: 0 });
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

function ids(count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}-${Math.random().toString(36).slice(2)}`);
}

async function signUps(count: number) {
  const made = Array.from({ length: count }, (_, i) =>
    makeSignUp({ username: `batch-${i}-${Math.random()}` }),
  );
  for (const { account, credential } of made) await stores.accounts.create(account, credential);
  return made;
}

describe('challenges.put, batched', () => {
  it('stores every ceremony of one turn with one statement, each resolving true', async () => {
    const keys = ids(5, 'put');
    sent = [];
    const stored = await Promise.all(keys.map((id) => stores.challenges.put(id, `value of ${id}`, 60_000)));
    expect(stored).toEqual([true, true, true, true, true]);
    expect(sent).toHaveLength(1);
    expect(isPutMany(sent[0] as string)).toBe(true);
    for (const id of keys) expect(await stores.challenges.consume(id)).toBe(`value of ${id}`);
  });

  it('never overwrites a pending ceremony: a batch member whose id is pending resolves false', async () => {
    const [pending, fresh] = ids(2, 'pending');
    await stores.challenges.put(pending as string, 'first', 60_000);
    const stored = await Promise.all([
      stores.challenges.put(pending as string, 'second', 60_000),
      stores.challenges.put(fresh as string, 'fresh', 60_000),
    ]);
    expect(stored).toEqual([false, true]);
    expect(await stores.challenges.consume(pending as string)).toBe('first');
    expect(await stores.challenges.consume(fresh as string)).toBe('fresh');
  });

  it('takes over an expired ceremony in a batch', async () => {
    const [expired, fresh] = ids(2, 'expired');
    await stores.challenges.put(expired as string, 'old', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stored = await Promise.all([
      stores.challenges.put(expired as string, 'new', 60_000),
      stores.challenges.put(fresh as string, 'fresh', 60_000),
    ]);
    expect(stored).toEqual([true, true]);
    expect(await stores.challenges.consume(expired as string)).toBe('new');
  });

  it('sends one id twice in one turn in two statements: exactly one put stores it', async () => {
    const [id, other] = ids(2, 'twice');
    sent = [];
    const stored = await Promise.all([
      stores.challenges.put(id as string, 'a', 60_000),
      stores.challenges.put(other as string, 'b', 60_000),
      stores.challenges.put(id as string, 'c', 60_000),
    ]);
    expect(sent).toHaveLength(2);
    expect([stored[0], stored[2]].filter(Boolean)).toHaveLength(1);
    expect(stored[1]).toBe(true);
    expect(await stores.challenges.consume(id as string)).toBe(stored[0] ? 'a' : 'c');
  });

  it('runs a lone put as the unbatched statement', async () => {
    sent = [];
    expect(await stores.challenges.put(ids(1, 'lone')[0] as string, 'v', 60_000)).toBe(true);
    expect(sent).toHaveLength(1);
    expect(isPutMany(sent[0] as string)).toBe(false);
  });

  it('is off with batchStatements: 0', async () => {
    sent = [];
    await Promise.all(ids(3, 'off').map((id) => unbatched.challenges.put(id, 'v', 60_000)));
    expect(sent).toHaveLength(3);
    expect(sent.some(isPutMany)).toBe(false);
  });
});

describe('signIn.consumeForSignIn, batched', () => {
  it('gives each call its own ceremony, credential and account, with one statement', async () => {
    const users = await signUps(4);
    const ceremonies = ids(4, 'verify');
    for (const [i, id] of ceremonies.entries()) await stores.challenges.put(id, `ceremony ${i}`, 60_000);
    sent = [];
    const reads = await Promise.all(
      users.map(({ credential }, i) =>
        stores.signIn.consumeForSignIn(ceremonies[i] as string, credential.id),
      ),
    );
    expect(sent).toHaveLength(1);
    expect(isConsumeMany(sent[0] as string)).toBe(true);
    for (const [i, read] of reads.entries()) {
      const user = users[i] as (typeof users)[number];
      expect(read.ceremony).toBe(`ceremony ${i}`);
      expect(read.credential?.id).toBe(user.credential.id);
      expect(read.credential?.publicKey).toEqual(user.credential.publicKey);
      expect(read.account?.username).toBe(user.account.username);
      expect(read.account?.userHandle).toBe(user.account.userHandle);
    }
    // Consumed: single use.
    for (const id of ceremonies) expect(await stores.challenges.consume(id)).toBeNull();
  });

  it('consumes a ceremony once when two calls in one turn name it', async () => {
    const [user] = await signUps(1);
    const [id, other] = ids(2, 'replay');
    await stores.challenges.put(id as string, 'once', 60_000);
    await stores.challenges.put(other as string, 'other', 60_000);
    const credentialId = user?.credential.id as string;
    const reads = await Promise.all([
      stores.signIn.consumeForSignIn(id as string, credentialId),
      stores.signIn.consumeForSignIn(other as string, credentialId),
      stores.signIn.consumeForSignIn(id as string, credentialId),
    ]);
    expect([reads[0]?.ceremony, reads[2]?.ceremony].filter((value) => value !== null)).toEqual(['once']);
    expect(reads[1]?.ceremony).toBe('other');
  });

  it('reads no credential for an unknown or non-canonical id, and still consumes the ceremony', async () => {
    const [user] = await signUps(1);
    const [a, b, c] = ids(3, 'unknown');
    for (const id of [a, b, c]) await stores.challenges.put(id as string, `v ${id}`, 60_000);
    const reads = await Promise.all([
      stores.signIn.consumeForSignIn(a as string, makeCredential().id),
      stores.signIn.consumeForSignIn(b as string, 'not+canonical='),
      stores.signIn.consumeForSignIn(c as string, user?.credential.id as string),
    ]);
    expect(reads.map((read) => read.ceremony)).toEqual([`v ${a}`, `v ${b}`, `v ${c}`]);
    expect(reads.map((read) => read.credential === null)).toEqual([true, true, false]);
    expect(reads.map((read) => read.account === null)).toEqual([true, true, false]);
  });

  it('resolves null for a ceremony that is missing or expired, beside one that is pending', async () => {
    const [user] = await signUps(1);
    const [pending, expired] = ids(2, 'exp');
    await stores.challenges.put(pending as string, 'pending', 60_000);
    await stores.challenges.put(expired as string, 'expired', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const credentialId = user?.credential.id as string;
    const reads = await Promise.all([
      stores.signIn.consumeForSignIn(pending as string, credentialId),
      stores.signIn.consumeForSignIn(expired as string, credentialId),
      stores.signIn.consumeForSignIn('never-stored', credentialId),
    ]);
    expect(reads.map((read) => read.ceremony)).toEqual(['pending', null, null]);
    expect(reads.every((read) => read.credential?.id === credentialId)).toBe(true);
  });
});

describe('credentials.updateAfterSignIn, batched', () => {
  it('applies each compare-and-set on its own row, with one statement', async () => {
    const users = await signUps(3);
    const at = new Date(Date.UTC(2026, 5, 1, 2, 3, 4, 5));
    sent = [];
    const updated = await Promise.all([
      stores.credentials.updateAfterSignIn({
        id: users[0]?.credential.id as string,
        expectedCounter: 0,
        counter: 7,
        backedUp: false,
        lastUsedAt: at,
      }),
      // The stored counter is 0: this one's expectation fails and changes nothing.
      stores.credentials.updateAfterSignIn({
        id: users[1]?.credential.id as string,
        expectedCounter: 3,
        counter: 9,
        backedUp: false,
        lastUsedAt: at,
      }),
      stores.credentials.updateAfterSignIn({
        id: users[2]?.credential.id as string,
        expectedCounter: 0,
        counter: 0,
        backedUp: true,
        lastUsedAt: at,
      }),
      // No such credential.
      stores.credentials.updateAfterSignIn({
        id: makeCredential().id,
        expectedCounter: 0,
        counter: 1,
        backedUp: false,
        lastUsedAt: at,
      }),
    ]);
    expect(sent).toHaveLength(1);
    expect(isUpdateMany(sent[0] as string)).toBe(true);
    expect(updated[0]).toMatchObject({
      id: users[0]?.credential.id,
      counter: 7,
      backedUp: false,
      lastUsedAt: at,
    });
    expect(updated[1]).toBeNull();
    expect(updated[2]).toMatchObject({
      id: users[2]?.credential.id,
      counter: 0,
      backedUp: true,
      lastUsedAt: at,
    });
    expect(updated[3]).toBeNull();
    expect((await stores.credentials.findById(users[1]?.credential.id as string))?.counter).toBe(0);
    expect((await stores.credentials.findById(users[0]?.credential.id as string))?.counter).toBe(7);
  });

  it('applies one of two updates of one credential in one turn (a racing clone)', async () => {
    const [user, other] = await signUps(2);
    const at = new Date();
    const update = (id: string, counter: number) =>
      stores.credentials.updateAfterSignIn({
        id,
        expectedCounter: 0,
        counter,
        backedUp: true,
        lastUsedAt: at,
      });
    sent = [];
    const results = await Promise.all([
      update(user?.credential.id as string, 5),
      update(other?.credential.id as string, 1),
      update(user?.credential.id as string, 6),
    ]);
    expect(sent).toHaveLength(2);
    expect([results[0], results[2]].filter((result) => result !== null)).toHaveLength(1);
    expect(results[1]?.counter).toBe(1);
    const stored = await stores.credentials.findById(user?.credential.id as string);
    expect(stored?.counter).toBe(results[0] ? 5 : 6);
  });
});

describe('a call the database refuses, in a batch', () => {
  it('fails alone: its neighbours are stored (the statement is rerun call by call)', async () => {
    const [a, b] = ids(2, 'refused');
    const results = await Promise.allSettled([
      stores.challenges.put(a as string, 'fine', 60_000),
      // PostgreSQL text cannot hold U+0000: the server refuses this value (22021).
      stores.challenges.put(`${b}`, 'nul \u0000 inside', 60_000),
      stores.challenges.put(b as string, 'also fine', 60_000),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: true });
    expect(results[1]?.status).toBe('rejected');
    expect(results[2]).toEqual({ status: 'fulfilled', value: true });
    expect(await stores.challenges.consume(a as string)).toBe('fine');
    expect(await stores.challenges.consume(b as string)).toBe('also fine');
  });

  it('fails alone for a counter update too', async () => {
    const [user, other] = await signUps(2);
    const at = new Date();
    const results = await Promise.allSettled([
      stores.credentials.updateAfterSignIn({
        id: user?.credential.id as string,
        expectedCounter: 0,
        counter: 4,
        backedUp: true,
        lastUsedAt: at,
      }),
      // The table refuses a negative counter (CHECK counter >= 0).
      stores.credentials.updateAfterSignIn({
        id: other?.credential.id as string,
        expectedCounter: 0,
        counter: -1,
        backedUp: true,
        lastUsedAt: at,
      }),
    ]);
    expect(results[0]?.status).toBe('fulfilled');
    expect((results[0] as PromiseFulfilledResult<{ counter: number } | null>).value?.counter).toBe(4);
    expect(results[1]?.status).toBe('rejected');
    expect((await stores.credentials.findById(other?.credential.id as string))?.counter).toBe(0);
  });
});

describe('batchStatements option', () => {
  it('rejects a negative or fractional size', () => {
    expect(() => createPostgresStores({ pool, schema, batchStatements: -1 })).toThrow(RangeError);
    expect(() => createPostgresStores({ pool, schema, batchStatements: 1.5 })).toThrow(RangeError);
  });
});
