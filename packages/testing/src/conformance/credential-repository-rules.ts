import { randomBytes } from 'node:crypto';
import type { StoredCredential } from '@passgate/core';
import { concurrently, expectCredential, expectRejectsWithCode, ids, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { seedAccount } from './credential-repository.js';
import { expect } from './expect.js';
import { makeCredential, makeSignUp, randomBase64url } from './fixtures.js';

/**
 * Contract tests for the exact rules of `CredentialRepository` that an adapter gets wrong most easily:
 * ids compared over their full length, the tie order of listings, updates that change no value,
 * ownership checked in the same operation as the write, index entries removed on delete, and which
 * answer wins when several rules apply (see the doc comments in `@passgate/core`'s `stores.ts`).
 */
export function describeCredentialRepositoryRules(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('CredentialRepository rules', () => {
    const repo = () => ctx.stores().credentials;
    const seed = (
      extra?: Partial<StoredCredential>[],
      first?: Partial<Omit<StoredCredential, 'userHandle'>>,
    ) => seedAccount(ctx.stores(), extra, first);
    const keep = { allowLast: false };
    const allow = { allowLast: true };

    it('compares ids over their full length: 1023-byte ids differing in the last byte, and prefixes', async () => {
      const { account, credentials } = await seed();
      const bytes = randomBytes(1023);
      const last = Buffer.from(bytes);
      last[1022] = (last[1022]! + 1) % 256;
      // 15 and 18 bytes: the shorter id's base64url is exactly the first 20 characters of the longer.
      const short = randomBytes(15);
      const long = Buffer.concat([short, randomBytes(3)]);
      const made = [bytes, last, short, long].map((b, i) =>
        makeCredential({ userHandle: account.userHandle, id: b.toString('base64url'), counter: i }),
      );
      expect(made[3]!.id.startsWith(made[2]!.id), 'the short id is a prefix of the long one').toBe(true);
      for (const credential of made) await repo().create(credential);
      for (const credential of made) expectCredential(await repo().findById(credential.id), credential);
      expect(await repo().findById(made[0]!.id.slice(0, 1000)), 'a prefix of a stored id').toBeNull();
      expect(ids(await repo().listByUserHandle(account.userHandle)).sort()).toEqual(
        ids([...credentials, ...made]).sort(),
      );
    });

    it('compares user handles over their full length', async () => {
      const handle = randomBytes(30);
      const a = makeSignUp({ userHandle: handle.toString('base64url') });
      const b = makeSignUp({ userHandle: Buffer.concat([handle, randomBytes(3)]).toString('base64url') });
      await ctx.stores().accounts.create(a.account, a.credential);
      await ctx.stores().accounts.create(b.account, b.credential);
      expect(ids(await repo().listByUserHandle(a.account.userHandle))).toEqual([a.credential.id]);
      expect(ids(await repo().listByUserHandle(b.account.userHandle))).toEqual([b.credential.id]);
      expect(await repo().rename(a.account.userHandle, b.credential.id, 'other')).toBeNull();
      expect(await repo().delete(a.account.userHandle, b.credential.id, allow)).toBe('not_found');
      expectCredential(await repo().findById(b.credential.id), b.credential);
    });

    it('lists ties on createdAt by id in code-unit order (- < 0-9 < A-Z < _ < a-z), not by insertion or case', async () => {
      const createdAt = new Date(Date.UTC(2025, 6, 1, 12, 0, 0, 123));
      const prefix = randomBase64url(15).slice(0, 19); // 19 + 1 characters: canonical base64url
      const order = ['-', '0', '9', 'B', 'Z', '_', 'a', 'z'];
      // Neither sorted nor reversed, and 'a' before 'B' (what a case-insensitive collation gives).
      const creation = ['Z', 'a', '-', 'z', 'B', '_', '9', '0'];
      const [first, ...rest] = creation.map((c) => ({ id: `${prefix}${c}`, createdAt }));
      const { account } = await seed(rest, first);
      expect(ids(await repo().listByUserHandle(account.userHandle))).toEqual(
        order.map((c) => `${prefix}${c}`),
      );
    });

    it('applies an update that changes no value (0 → 0, same flags and time), also concurrently', async () => {
      const lastUsedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 321));
      const { credentials } = await seed([], { counter: 0, backedUp: true, lastUsedAt });
      const before = credentials[0]!;
      const same = { id: before.id, expectedCounter: 0, counter: 0, backedUp: true, lastUsedAt };
      // A store that reports "rows changed" rather than "rows matched" would answer null here.
      expectCredential(await repo().updateAfterSignIn(same), before);
      const { fulfilled, rejectedCodes } = settle(
        await concurrently(ctx.concurrency, () => repo().updateAfterSignIn({ ...same })),
      );
      expect(rejectedCodes).toEqual([]);
      expect(
        fulfilled.filter((c) => c === null),
        'updates that resolved null',
      ).toHaveLength(0);
      for (const c of fulfilled) expectCredential(c, before);
    });

    it('checks ownership in the same operation as rename and delete, while the id moves to another account', async () => {
      const rounds = Math.max(2, Math.min(10, ctx.concurrency));
      await Promise.all(
        Array.from({ length: rounds }, async () => {
          const owner = await seed([{}]);
          const other = await seed();
          const target = owner.credentials[0]!;
          const moved = makeCredential({
            id: target.id,
            userHandle: other.account.userHandle,
            nickname: null,
          });
          // The passkey is deleted and its id registered again by another account while, at the
          // same time, its owner renames and deletes it: neither of the owner's calls may touch the
          // other account's credential.
          const renamed = repo().rename(owner.account.userHandle, target.id, 'hijacked');
          const move = (async () => {
            await repo().delete(owner.account.userHandle, target.id, keep);
            await repo().create(moved);
          })();
          const deleted = repo().delete(owner.account.userHandle, target.id, allow);
          const [renameResult] = await Promise.all([renamed, move, deleted]);
          if (renameResult !== null) expect(renameResult.userHandle).toBe(owner.account.userHandle);
          expectCredential(await repo().findById(target.id), moved);
          expect(ids(await repo().listByUserHandle(other.account.userHandle)).sort()).toEqual(
            [other.credentials[0]!.id, target.id].sort(),
          );
        }),
      );
    });

    it('removes index entries on delete: the next delete sees the right count, a re-used id is not listed', async () => {
      const a = await seed([{}]);
      const [x, y] = a.credentials as [StoredCredential, StoredCredential];
      expect(await repo().delete(a.account.userHandle, x.id, keep)).toBe('deleted');
      expect(await repo().delete(a.account.userHandle, y.id, keep), 'the only one left').toBe(
        'last_credential',
      );
      expect(await repo().delete(a.account.userHandle, y.id, allow)).toBe('deleted');
      expect(await repo().listByUserHandle(a.account.userHandle)).toEqual([]);
      // The id registered again, by another account: the old owner no longer sees or touches it.
      const b = await seed();
      const again = makeCredential({ id: x.id, userHandle: b.account.userHandle });
      await repo().create(again);
      expect(await repo().listByUserHandle(a.account.userHandle)).toEqual([]);
      expect(await repo().rename(a.account.userHandle, x.id, 'mine')).toBeNull();
      expect(await repo().delete(a.account.userHandle, x.id, allow)).toBe('not_found');
      expectCredential(await repo().findById(x.id), again);
      expect(ids(await repo().listByUserHandle(b.account.userHandle)).sort()).toEqual(
        [b.credentials[0]!.id, x.id].sort(),
      );
    });

    it("'not_found' wins over 'last_credential': another account's or an unknown id, from an account with one passkey", async () => {
      const owner = await seed();
      const intruder = await seed();
      const target = owner.credentials[0]!;
      expect(await repo().delete(intruder.account.userHandle, target.id, keep)).toBe('not_found');
      expect(await repo().delete(owner.account.userHandle, randomBase64url(16), keep)).toBe('not_found');
      // With the owner's single credential named by the intruder, nothing changes for either.
      expectCredential(await repo().findById(target.id), target);
      expect(ids(await repo().listByUserHandle(intruder.account.userHandle))).toEqual([
        intruder.credentials[0]!.id,
      ]);
    });

    it('credential_exists wins over too_many_credentials', async () => {
      const full = await seed();
      const other = await seed();
      const taken = makeCredential({ id: other.credentials[0]!.id, userHandle: full.account.userHandle });
      await expectRejectsWithCode(repo().create(taken, { maxPerAccount: 1 }), 'credential_exists');
      expect(ids(await repo().listByUserHandle(full.account.userHandle))).toEqual(ids(full.credentials));
      expectCredential(await repo().findById(taken.id), other.credentials[0]!);
    });

    it('keeps names exactly: no Unicode normalisation, trimming or case change of nicknames', async () => {
      const nfd = 'Cafe\u0301 Phone ';
      const { account, credentials } = await seed([], { nickname: ' Jose\u0301 KEY' });
      const first = credentials[0]!;
      expectCredential(await repo().findById(first.id), first);
      expectCredential(await repo().rename(account.userHandle, first.id, nfd), { ...first, nickname: nfd });
      expect((await repo().findById(first.id))?.nickname === nfd, 'NFD nickname kept as given').toBe(true);
    });
  });
}
