import { createMemoryStores, type PassgateStores } from '@passgate/core';
import {
  describeStorageAdapter,
  makeCredential,
  makeSignUp,
  randomCeremonyId,
} from '@passgate/testing/conformance';
import { describe, expect, it } from 'vitest';

describeStorageAdapter('memory', () => ({ stores: createMemoryStores() }), { renaming: true });

describe('createMemoryStores: memory-only behaviour', () => {
  /** A store on a clock the test moves by hand. */
  const withClock = (maxPendingChallenges?: number) => {
    const clock = { now: 1_000_000 };
    const stores = createMemoryStores({ maxPendingChallenges, now: () => clock.now });
    return { clock, challenges: stores.challenges };
  };

  it('expires a challenge exactly at put time + ttl, by the injected clock', async () => {
    const { clock, challenges } = withClock();
    await challenges.put('a', 'A', 100);
    await challenges.put('b', 'B', 100);
    clock.now += 99;
    expect(await challenges.consume('a')).toBe('A');
    clock.now += 1;
    expect(await challenges.consume('b')).toBeNull();
  });

  it('treats an expired id as free: put succeeds again', async () => {
    const { clock, challenges } = withClock();
    expect(await challenges.put('a', 'old', 50)).toBe(true);
    expect(await challenges.put('a', 'new', 50)).toBe(false);
    clock.now += 50;
    expect(await challenges.put('a', 'new', 50)).toBe(true);
    expect(await challenges.consume('a')).toBe('new');
  });

  it('evicts the oldest pending challenge when full', async () => {
    const { challenges } = withClock(3);
    for (const id of ['a', 'b', 'c']) expect(await challenges.put(id, id, 10_000)).toBe(true);
    expect(await challenges.put('d', 'd', 10_000)).toBe(true);
    expect(await challenges.consume('a')).toBeNull();
    expect(await challenges.consume('b')).toBe('b');
    expect(await challenges.consume('c')).toBe('c');
    expect(await challenges.consume('d')).toBe('d');
  });

  it('drops expired challenges before evicting a live one', async () => {
    const { clock, challenges } = withClock(3);
    await challenges.put('a', 'a', 10_000);
    await challenges.put('b', 'b', 100); // expires first, though not the oldest
    await challenges.put('c', 'c', 10_000);
    clock.now += 100;
    expect(await challenges.put('d', 'd', 10_000)).toBe(true);
    expect(await challenges.consume('a')).toBe('a');
    expect(await challenges.consume('c')).toBe('c');
    expect(await challenges.consume('d')).toBe('d');
  });

  it('stays within the cap under a flood, serving the newest ceremonies', async () => {
    const { clock, challenges } = withClock(100);
    const ids = Array.from({ length: 1000 }, () => randomCeremonyId());
    for (const id of ids) {
      expect(await challenges.put(id, id, 60_000)).toBe(true);
      clock.now += 1;
    }
    const served = await Promise.all(ids.map((id) => challenges.consume(id)));
    expect(served.filter((v) => v !== null)).toEqual(ids.slice(-100));
  });

  it('re-puts an id freed by consume at the back of the eviction order', async () => {
    const { challenges } = withClock(2);
    await challenges.put('a', 'a1', 10_000);
    await challenges.put('b', 'b', 10_000);
    await challenges.consume('a');
    await challenges.put('a', 'a2', 10_000); // now the newest
    await challenges.put('c', 'c', 10_000); // evicts b
    expect(await challenges.consume('b')).toBeNull();
    expect(await challenges.consume('a')).toBe('a2');
  });

  it('rejects invalid options and TTLs', async () => {
    expect(() => createMemoryStores({ maxPendingChallenges: 0 })).toThrow(RangeError);
    expect(() => createMemoryStores({ maxPendingChallenges: 1.5 })).toThrow(RangeError);
    const { challenges } = createMemoryStores();
    for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(challenges.put(randomCeremonyId(), 'x', ttl)).rejects.toThrow(RangeError);
    }
  });

  it('rejects a first credential owned by another user handle, writing nothing', async () => {
    const stores: PassgateStores = createMemoryStores();
    const { account } = makeSignUp();
    const stray = makeCredential();
    await expect(stores.accounts.create(account, stray)).rejects.toThrow(Error);
    expect(await stores.accounts.findByUserHandle(account.userHandle)).toBeNull();
    expect(await stores.credentials.findById(stray.id)).toBeNull();
  });

  it('returns plain Uint8Array copies even when given a Buffer', async () => {
    const stores = createMemoryStores();
    const { account, credential } = makeSignUp({}, { publicKey: Buffer.from([1, 2, 3]) });
    await stores.accounts.create(account, credential);
    const found = await stores.credentials.findById(credential.id);
    expect(found?.publicKey.constructor).toBe(Uint8Array);
    expect([...(found?.publicKey ?? [])]).toEqual([1, 2, 3]);
  });
});
