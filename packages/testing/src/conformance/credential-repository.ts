import type { Account, PassgateStores, StoredCredential } from '@passgate/core';
import { concurrently, expectCredential, expectRejectsWithCode, ids, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import {
  makeCredential,
  makeSignUp,
  randomBase64url,
  randomCredentialId,
  unicodeString,
} from './fixtures.js';

/**
 * Signs up a fresh account (through `AccountRepository.create`, so adapters with a foreign key from
 * credentials to accounts work) and adds `extra` more credentials through `CredentialRepository.create`.
 */
export async function seedAccount(
  stores: PassgateStores,
  extra: Partial<StoredCredential>[] = [],
  first: Partial<Omit<StoredCredential, 'userHandle'>> = {},
): Promise<{ account: Account; credentials: StoredCredential[] }> {
  const { account, credential } = makeSignUp({}, first);
  await stores.accounts.create(account, credential);
  const credentials = [credential];
  for (const overrides of extra) {
    const next = makeCredential({ ...overrides, userHandle: account.userHandle });
    await stores.credentials.create(next);
    credentials.push(next);
  }
  return { account, credentials };
}

/** Contract tests for `CredentialRepository` (see its doc comment in `@passgate/core`). */
export function describeCredentialRepositoryContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('CredentialRepository', () => {
    const repo = () => ctx.stores().credentials;
    const seed = (
      extra?: Partial<StoredCredential>[],
      first?: Partial<Omit<StoredCredential, 'userHandle'>>,
    ) => seedAccount(ctx.stores(), extra, first);

    /** Reads the credential back through both finders and checks it equals `expected` in each. */
    const expectPersisted = async (expected: StoredCredential) => {
      expectCredential(await repo().findById(expected.id), expected);
      const listed = await repo().listByUserHandle(expected.userHandle);
      expectCredential(
        listed.find((c) => c.id === expected.id),
        expected,
      );
    };

    describe('create and findById', () => {
      it('round-trips every field exactly', async () => {
        const { account } = await seed();
        const credential = makeCredential({
          userHandle: account.userHandle,
          // 1023 bytes, the WebAuthn maximum: 1364 base64url characters.
          id: randomCredentialId(1023),
          publicKey: new Uint8Array([0, 255, 1, 128, 127, 0, 0, 10, 13, 92, 39, 34, ...Array(200).fill(0)]),
          algorithm: -257,
          counter: 42,
          transports: ['usb', 'nfc', 'ble', 'hybrid', 'internal', 'smart-card', 'cable'],
          backupEligible: false,
          backedUp: false,
          aaguid: '00000000-0000-0000-0000-000000000000',
          attestationFormat: 'packed',
          nickname: unicodeString(64),
          createdAt: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)),
          lastUsedAt: new Date(Date.UTC(2025, 11, 31, 0, 0, 0, 1)),
        });
        expect(credential.id).toHaveLength(1364);
        await repo().create(credential);
        await expectPersisted(credential);
      });

      it('round-trips empty transports and null nickname and lastUsedAt', async () => {
        const { account } = await seed();
        const credential = makeCredential({
          userHandle: account.userHandle,
          transports: [],
          nickname: null,
          lastUsedAt: null,
          publicKey: new Uint8Array([1]),
        });
        await repo().create(credential);
        await expectPersisted(credential);
      });

      it('round-trips transports in their original order', async () => {
        const { account } = await seed();
        const credential = makeCredential({
          userHandle: account.userHandle,
          transports: ['nfc', 'usb', 'ble'],
        });
        await repo().create(credential);
        expect((await repo().findById(credential.id))?.transports).toEqual(['nfc', 'usb', 'ble']);
      });

      it('ids are case-sensitive (base64url)', async () => {
        const { account } = await seed();
        const lower = `${randomBase64url(12)
          .replace(/[^a-z]/gi, 'q')
          .toLowerCase()}abcd`; // 20 characters: canonical base64url in both cases
        const a = makeCredential({ userHandle: account.userHandle, id: lower });
        const b = makeCredential({ userHandle: account.userHandle, id: lower.toUpperCase() });
        await repo().create(a);
        await repo().create(b);
        expectCredential(await repo().findById(a.id), a);
        expectCredential(await repo().findById(b.id), b);
      });

      it('findById of an unknown id resolves null', async () => {
        expect(await repo().findById(randomCredentialId())).toBeNull();
      });

      it('rejects a duplicate id with credential_exists and changes nothing', async () => {
        const { credentials } = await seed();
        const original = credentials[0]!;
        const other = await seed();
        const duplicate = makeCredential({
          id: original.id,
          userHandle: other.account.userHandle,
          counter: 9,
        });
        await expectRejectsWithCode(repo().create(duplicate), 'credential_exists');
        await expectPersisted(original);
        expect(ids(await repo().listByUserHandle(other.account.userHandle))).toEqual([
          other.credentials[0]!.id,
        ]);
      });

      it('rejects the very same credential created a second time (same owner, createdAt and fields)', async () => {
        // Two creates with equal values are two calls (a second registration of one credential id in
        // the same millisecond): an adapter that makes a re-sent create safe must recognise it by a
        // token of the call, never by finding the same values stored.
        const { account } = await seed();
        const credential = makeCredential({ userHandle: account.userHandle });
        await repo().create(credential);
        await expectRejectsWithCode(repo().create(structuredClone(credential)), 'credential_exists');
        await expectPersisted(credential);
        expect(ids(await repo().listByUserHandle(account.userHandle))).toHaveLength(2);
      });

      it('of concurrent creates of one id, exactly one resolves and the rest reject with credential_exists', async () => {
        const accounts = await Promise.all(Array.from({ length: ctx.concurrency }, () => seed()));
        const id = randomCredentialId();
        const candidates = accounts.map(({ account }) =>
          makeCredential({ id, userHandle: account.userHandle }),
        );
        const results = await concurrently(ctx.concurrency, (i) => repo().create(candidates[i]!));
        const { fulfilled, rejectedCodes } = settle(results);
        expect(fulfilled).toHaveLength(1);
        expect(rejectedCodes).toEqual(Array(ctx.concurrency - 1).fill('credential_exists'));
        const winner = candidates[results.findIndex((r) => r.status === 'fulfilled')]!;
        await expectPersisted(winner);
        for (const [i, { account }] of accounts.entries()) {
          const listed = ids(await repo().listByUserHandle(account.userHandle));
          expect(listed.includes(id), `account #${i} has the credential`).toBe(candidates[i] === winner);
        }
      });

      it('keeps its own copy: mutating the created object afterwards changes nothing', async () => {
        const { account } = await seed();
        const credential = makeCredential({ userHandle: account.userHandle });
        const snapshot = structuredClone(credential);
        await repo().create(credential);
        credential.publicKey[0] = (credential.publicKey[0]! + 1) % 256;
        credential.transports.push('usb');
        credential.createdAt.setTime(0);
        credential.counter = 77;
        await expectPersisted(snapshot);
      });
    });

    describe('listByUserHandle', () => {
      it('lists oldest first, by createdAt then id', async () => {
        const t = Date.UTC(2025, 5, 1, 12, 0, 0, 0);
        // Ids share a random prefix and differ only in a final upper-case letter, so every collation
        // (and byte order) agrees on their order; 20 characters keep them canonical base64url.
        // Creation order differs from the expected listing order.
        const prefix = `${randomBase64url(12)}AAA`;
        const spec = [
          { id: `${prefix}D`, createdAt: new Date(t + 1000) },
          { id: `${prefix}B`, createdAt: new Date(t + 2000) },
          { id: `${prefix}E`, createdAt: new Date(t) },
          { id: `${prefix}A`, createdAt: new Date(t + 2000) },
          { id: `${prefix}C`, createdAt: new Date(t + 1000) },
          { id: `${prefix}F`, createdAt: new Date(t + 1001) },
        ];
        const [first, ...rest] = spec;
        const { account, credentials } = await seed(rest, first);
        const listed = await repo().listByUserHandle(account.userHandle);
        expect(ids(listed)).toEqual(['E', 'C', 'D', 'F', 'A', 'B'].map((s) => `${prefix}${s}`));
        for (const c of listed) expectCredential(c, credentials.find((x) => x.id === c.id)!);
      });

      it("lists only the account's own credentials", async () => {
        const a = await seed([{}, {}]);
        const b = await seed([{}]);
        expect(ids(await repo().listByUserHandle(a.account.userHandle)).sort()).toEqual(
          ids(a.credentials).sort(),
        );
        expect(ids(await repo().listByUserHandle(b.account.userHandle)).sort()).toEqual(
          ids(b.credentials).sort(),
        );
      });

      it('resolves [] for an unknown user handle', async () => {
        expect(await repo().listByUserHandle(randomBase64url(32))).toEqual([]);
      });
    });

    describe('updateAfterSignIn', () => {
      it('applies when the counter matches and resolves the updated credential', async () => {
        const { credentials } = await seed([], { counter: 5, backedUp: false, lastUsedAt: null });
        const before = credentials[0]!;
        const lastUsedAt = new Date(Date.UTC(2026, 2, 3, 4, 5, 6, 789));
        const updated = await repo().updateAfterSignIn({
          id: before.id,
          expectedCounter: 5,
          counter: 6,
          backedUp: true,
          lastUsedAt,
        });
        const expected = { ...before, counter: 6, backedUp: true, lastUsedAt };
        expectCredential(updated, expected);
        await expectPersisted(expected);
      });

      it('resolves null and changes nothing when the counter does not match', async () => {
        const { credentials } = await seed([], { counter: 5 });
        const before = credentials[0]!;
        const update = { id: before.id, counter: 9, backedUp: !before.backedUp, lastUsedAt: new Date() };
        expect(await repo().updateAfterSignIn({ ...update, expectedCounter: 4 })).toBeNull();
        expect(await repo().updateAfterSignIn({ ...update, expectedCounter: 6 })).toBeNull();
        await expectPersisted(before);
      });

      it('resolves null for an unknown id', async () => {
        const update = { id: randomCredentialId(), expectedCounter: 0, counter: 1, backedUp: false };
        expect(await repo().updateAfterSignIn({ ...update, lastUsedAt: new Date() })).toBeNull();
      });

      it('applies a 0 → 0 update (authenticators that do not count), repeatedly', async () => {
        const { credentials } = await seed([], { counter: 0 });
        const before = credentials[0]!;
        for (const ms of [111, 222]) {
          const lastUsedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms));
          const update = { id: before.id, expectedCounter: 0, counter: 0, backedUp: true, lastUsedAt };
          expectCredential(await repo().updateAfterSignIn(update), { ...before, backedUp: true, lastUsedAt });
        }
      });

      it('keeps counters up to 2^32 - 1 (unsigned 32-bit)', async () => {
        const { credentials } = await seed([], { counter: 2 ** 31 - 1 });
        const before = credentials[0]!;
        await expectPersisted(before);
        const lastUsedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 5));
        const update = {
          id: before.id,
          expectedCounter: 2 ** 31 - 1,
          counter: 2 ** 32 - 1,
          backedUp: false,
          lastUsedAt,
        };
        expectCredential(await repo().updateAfterSignIn(update), {
          ...before,
          counter: 2 ** 32 - 1,
          backedUp: false,
          lastUsedAt,
        });
        await expectPersisted({ ...before, counter: 2 ** 32 - 1, backedUp: false, lastUsedAt });
      });

      it('of concurrent updates with the same expectedCounter, exactly one applies', async () => {
        const { credentials } = await seed([], { counter: 10 });
        const before = credentials[0]!;
        const updates = Array.from({ length: ctx.concurrency }, (_, i) => ({
          id: before.id,
          expectedCounter: 10,
          counter: 11 + i,
          backedUp: i % 2 === 0,
          lastUsedAt: new Date(Date.UTC(2026, 0, 1) + i),
        }));
        const results = await concurrently(ctx.concurrency, (i) => repo().updateAfterSignIn(updates[i]!));
        const { fulfilled, rejectedCodes } = settle(results);
        expect(rejectedCodes).toEqual([]);
        const applied = fulfilled.flatMap((c, i) => (c === null ? [] : [i]));
        expect(applied).toHaveLength(1);
        const winner = updates[applied[0]!]!;
        const expected = {
          ...before,
          counter: winner.counter,
          backedUp: winner.backedUp,
          lastUsedAt: winner.lastUsedAt,
        };
        expectCredential(fulfilled[applied[0]!], expected);
        await expectPersisted(expected);
      });
    });

    describe('rename', () => {
      it('sets and clears the nickname for the owner', async () => {
        const { account, credentials } = await seed([], {
          lastUsedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
        });
        const before = credentials[0]!;
        const nickname = unicodeString(64, '🔑');
        expectCredential(await repo().rename(account.userHandle, before.id, nickname), {
          ...before,
          nickname,
        });
        await expectPersisted({ ...before, nickname });
        expectCredential(await repo().rename(account.userHandle, before.id, null), {
          ...before,
          nickname: null,
        });
        await expectPersisted({ ...before, nickname: null });
      });

      it("resolves null and changes nothing for another account's credential", async () => {
        const owner = await seed([], { nickname: 'Mine' });
        const intruder = await seed();
        const target = owner.credentials[0]!;
        expect(await repo().rename(intruder.account.userHandle, target.id, 'Stolen')).toBeNull();
        expect(await repo().rename(intruder.account.userHandle, target.id, null)).toBeNull();
        await expectPersisted(target);
      });

      it('resolves null for an unknown id', async () => {
        const { account } = await seed();
        expect(await repo().rename(account.userHandle, randomCredentialId(), 'Nope')).toBeNull();
      });
    });

    describe('delete', () => {
      const keep = { allowLast: false };
      const allow = { allowLast: true };

      it("resolves 'deleted' with two credentials, and the other one stays", async () => {
        const { account, credentials } = await seed([{}]);
        const [a, b] = credentials as [StoredCredential, StoredCredential];
        expect(await repo().delete(account.userHandle, a.id, keep)).toBe('deleted');
        expect(await repo().findById(a.id)).toBeNull();
        expect(ids(await repo().listByUserHandle(account.userHandle))).toEqual([b.id]);
        await expectPersisted(b);
      });

      it("resolves 'last_credential' for the only credential when allowLast is false, and keeps it", async () => {
        const { account, credentials } = await seed();
        const only = credentials[0]!;
        expect(await repo().delete(account.userHandle, only.id, keep)).toBe('last_credential');
        await expectPersisted(only);
      });

      it("resolves 'deleted' for the only credential when allowLast is true", async () => {
        const { account, credentials } = await seed();
        const only = credentials[0]!;
        expect(await repo().delete(account.userHandle, only.id, allow)).toBe('deleted');
        expect(await repo().findById(only.id)).toBeNull();
        expect(await repo().listByUserHandle(account.userHandle)).toEqual([]);
      });

      it("resolves 'not_found' for another account's credential, and keeps it", async () => {
        const owner = await seed([{}]);
        const intruder = await seed([{}]);
        const target = owner.credentials[0]!;
        expect(await repo().delete(intruder.account.userHandle, target.id, allow)).toBe('not_found');
        expect(await repo().delete(intruder.account.userHandle, target.id, keep)).toBe('not_found');
        await expectPersisted(target);
        expect(await repo().listByUserHandle(owner.account.userHandle)).toHaveLength(2);
        expect(await repo().listByUserHandle(intruder.account.userHandle)).toHaveLength(2);
      });

      it("resolves 'not_found' for an unknown id", async () => {
        const { account } = await seed();
        expect(await repo().delete(account.userHandle, randomCredentialId(), allow)).toBe('not_found');
        expect(await repo().listByUserHandle(account.userHandle)).toHaveLength(1);
      });

      it('concurrent deletes of the last two credentials (allowLast false) leave exactly one', async () => {
        // Several accounts at once, to give a racy implementation more chances to show it.
        const rounds = Math.max(1, Math.min(10, ctx.concurrency));
        const seeded = await Promise.all(Array.from({ length: rounds }, () => seed([{}])));
        await Promise.all(
          seeded.map(async ({ account, credentials }) => {
            const results = await Promise.all(
              credentials.map((c) => repo().delete(account.userHandle, c.id, keep)),
            );
            expect([...results].sort()).toEqual(['deleted', 'last_credential']);
            const survivor = credentials[results.indexOf('last_credential')]!;
            expect(ids(await repo().listByUserHandle(account.userHandle))).toEqual([survivor.id]);
            await expectPersisted(survivor);
          }),
        );
      });

      it('concurrent deletes of all of many credentials (allowLast false) leave exactly one', async () => {
        const count = Math.max(2, Math.min(10, ctx.concurrency));
        const { account, credentials } = await seed(Array.from({ length: count - 1 }, () => ({})));
        const results = await Promise.all(
          credentials.map((c) => repo().delete(account.userHandle, c.id, keep)),
        );
        expect(results.filter((r) => r === 'deleted')).toHaveLength(count - 1);
        expect(results.filter((r) => r === 'last_credential')).toHaveLength(1);
        const survivor = credentials[results.indexOf('last_credential')]!;
        expect(ids(await repo().listByUserHandle(account.userHandle))).toEqual([survivor.id]);
        await expectPersisted(survivor);
      });

      it("of concurrent deletes of one credential, exactly one resolves 'deleted'", async () => {
        const { account, credentials } = await seed([{}]);
        const target = credentials[1]!;
        const { fulfilled, rejectedCodes } = settle(
          await concurrently(ctx.concurrency, () => repo().delete(account.userHandle, target.id, allow)),
        );
        expect(rejectedCodes).toEqual([]);
        expect(fulfilled.filter((r) => r === 'deleted')).toHaveLength(1);
        expect(fulfilled.filter((r) => r === 'not_found')).toHaveLength(ctx.concurrency - 1);
        expect(ids(await repo().listByUserHandle(account.userHandle))).toEqual([credentials[0]!.id]);
      });
    });

    it('returns fresh copies: mutating a returned credential changes nothing stored', async () => {
      const { account, credentials } = await seed([], {
        counter: 3,
        lastUsedAt: new Date(Date.UTC(2026, 0, 1)),
      });
      const original = credentials[0]!;
      const mutate = (c: StoredCredential | null | undefined) => {
        // Each call below must return the credential: a null would leave nothing to mutate.
        expect(c).not.toBeNull();
        expect(c).toBeDefined();
        if (!c) return;
        c.publicKey[0] = (c.publicKey[0]! + 1) % 256;
        c.publicKey.fill(7, 1, 4);
        c.transports.push('usb');
        c.transports.reverse();
        c.createdAt.setTime(0);
        c.lastUsedAt?.setTime(0);
        c.counter = 999;
        c.nickname = 'mutated';
      };
      mutate(await repo().findById(original.id));
      for (const c of await repo().listByUserHandle(account.userHandle)) mutate(c);
      await expectPersisted(original);

      const lastUsedAt = new Date(Date.UTC(2026, 0, 2, 0, 0, 0, 2));
      const updated = { ...original, counter: 4, lastUsedAt };
      mutate(
        await repo().updateAfterSignIn({
          id: original.id,
          expectedCounter: 3,
          counter: 4,
          backedUp: original.backedUp,
          lastUsedAt,
        }),
      );
      lastUsedAt.setTime(0); // the update's own Date must not be kept by reference either
      await expectPersisted({ ...updated, lastUsedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, 0, 2)) });

      const renamed = {
        ...updated,
        lastUsedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, 0, 2)),
        nickname: 'Laptop',
      };
      mutate(await repo().rename(account.userHandle, original.id, 'Laptop'));
      await expectPersisted(renamed);
    });
  });
}
