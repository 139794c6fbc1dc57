import type { Account, AccountRename, AccountRepository } from '@passgate/core';
import { concurrently, expectAccount, expectRejectsWithCode, ids, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { makeSignUp, randomBase64url, randomUserHandle, randomUsername } from './fixtures.js';
import { skipWithReason } from './runner.js';

type Rename = (userHandle: string, rename: AccountRename) => Promise<Account | null>;

/** Rounds of the delete-and-rename race (each a fresh account): enough to land both orders. */
const DELETE_RACE_ROUNDS = 10;

/**
 * Contract tests for the optional `AccountRepository.rename` (see its doc comment in `@passgate/core`):
 * the username index moves with the name in one atomic step, the old name is free at once, a taken
 * name is `username_taken`, and `expectedUsername` is a compare-and-set.
 */
export function describeAccountRenameContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  const reason = 'no `renaming` option given: the stores offer no AccountRepository.rename';
  describe('AccountRepository.rename (optional: renaming an account, moving its username)', () => {
    const names = [
      'renames: the account is found by the new username only, every other field kept',
      'the old username is free at once: a rename and a create may take it',
      'sets the display name when given, and keeps it when omitted',
      "rejects another account's username with username_taken and changes nothing",
      'renaming to its own username resolves the account (only the display name may change)',
      'resolves null for an unknown user handle and writes nothing, also for a taken name',
      'expectedUsername: applies when it matches or the name already is the new one, else null and no change',
      'compares names exactly: a name differing only in case or Unicode form is another name',
      'returns a fresh copy: mutating it changes nothing stored',
      'of concurrent renames of several accounts to one username, exactly one resolves',
      'of concurrent creates and renames claiming one username, exactly one resolves',
      'concurrent renames of one account leave it with exactly one of the names, every other one free',
      "a rename racing the account's delete leaves no username behind",
    ] as const;
    if (!ctx.renaming) {
      for (const name of names) skipWithReason(ctx.runner, name, reason);
      it('the stores offer no rename, or the suite is told they do (its `renaming` option)', () => {
        expect(
          typeof ctx.stores().accounts.rename,
          'accounts.rename is there: pass `renaming: true` to the suite to run its tests',
        ).toBe('undefined');
      });
      return;
    }

    const accounts = (): AccountRepository => ctx.stores().accounts;
    const test = (name: (typeof names)[number], body: (rename: Rename) => Promise<void>) =>
      it(name, async () => {
        const repository = accounts();
        expect(typeof repository.rename, 'accounts.rename (the suite was given `renaming: true`)').toBe(
          'function',
        );
        await body((userHandle, change) =>
          (repository.rename as Rename).call(repository, userHandle, change),
        );
      });
    /** A new account (with its first credential) in the store. */
    const seed = async (overrides: Partial<Account> = {}) => {
      const { account, credential } = makeSignUp(overrides);
      await accounts().create(account, credential);
      return { account, credential };
    };
    /** The account is found through all three finders, equal to `expected`. */
    const expectFound = async (expected: Account) => {
      expectAccount(await accounts().findByUserHandle(expected.userHandle), expected);
      expectAccount(await accounts().findByUserId(expected.userId), expected);
      expectAccount(await accounts().findByUsername(expected.username), expected);
    };
    /** No account has `username`, and a new one can take it (no index entry was left behind). */
    const expectFree = async (username: string, what: string) => {
      expect(await accounts().findByUsername(username), `${what}: found by name`).toBeNull();
      const taker = makeSignUp({ username });
      const created = await accounts()
        .create(taker.account, taker.credential)
        .then(
          () => 'created',
          (error: unknown) => `rejected: ${String((error as { code?: string }).code ?? error)}`,
        );
      expect(created, `${what}: a new account may take it`).toBe('created');
    };

    test(names[0], async (rename) => {
      const { account, credential } = await seed();
      const username = randomUsername();
      const renamed = await rename(account.userHandle, { username });
      const expected = { ...account, username };
      expectAccount(renamed, expected);
      await expectFound(expected);
      expect(await accounts().findByUsername(account.username), 'found by the old name').toBeNull();
      expect(ids(await ctx.stores().credentials.listByUserHandle(account.userHandle))).toEqual([
        credential.id,
      ]);
    });

    test(names[1], async (rename) => {
      const { account } = await seed();
      const other = await seed();
      await rename(account.userHandle, { username: randomUsername() });
      // A rename takes the old name, gives it up again, and then a create takes it.
      expectAccount(await rename(other.account.userHandle, { username: account.username }), {
        ...other.account,
        username: account.username,
      });
      await rename(other.account.userHandle, { username: randomUsername() });
      await expectFree(account.username, 'the old name');
    });

    test(names[2], async (rename) => {
      const { account } = await seed();
      const displayName = ` Ada ${randomBase64url(4)} 👩‍💻 `;
      await rename(account.userHandle, { username: account.username, displayName });
      const username = randomUsername();
      expectAccount(await rename(account.userHandle, { username }), { ...account, username, displayName });
      await expectFound({ ...account, username, displayName });
    });

    test(names[3], async (rename) => {
      const first = await seed();
      const second = await seed();
      await expectRejectsWithCode(
        rename(first.account.userHandle, { username: second.account.username, displayName: 'changed' }),
        'username_taken',
      );
      await expectFound(first.account);
      await expectFound(second.account);
    });

    test(names[4], async (rename) => {
      const { account } = await seed();
      const renamed = await rename(account.userHandle, { username: account.username, displayName: 'Same' });
      expectAccount(renamed, { ...account, displayName: 'Same' });
      await expectFound({ ...account, displayName: 'Same' });
    });

    test(names[5], async (rename) => {
      const taken = await seed();
      const username = randomUsername();
      const unknown = randomUserHandle();
      expect(await rename(unknown, { username }), 'unknown user handle').toBeNull();
      expect(
        await rename(unknown, { username: taken.account.username }),
        'unknown handle, taken name',
      ).toBeNull();
      expect(await accounts().findByUserHandle(unknown)).toBeNull();
      await expectFree(username, 'the name asked for');
      await expectFound(taken.account);
    });

    test(names[6], async (rename) => {
      const { account } = await seed();
      const next = randomUsername();
      const stale = randomUsername();
      expect(
        await rename(account.userHandle, { username: next, expectedUsername: stale }),
        'mismatch',
      ).toBeNull();
      await expectFound(account);
      expect(await accounts().findByUsername(next), 'the new name after a mismatch').toBeNull();
      const renamed = { ...account, username: next };
      expectAccount(
        await rename(account.userHandle, { username: next, expectedUsername: account.username }),
        renamed,
      );
      // Already renamed (a retry of the same rename): it applies, and so may the display name.
      const again = await rename(account.userHandle, {
        username: next,
        expectedUsername: account.username,
        displayName: 'Again',
      });
      expectAccount(again, { ...renamed, displayName: 'Again' });
      // Based on the old name, another rename no longer applies.
      const third = randomUsername();
      expect(
        await rename(account.userHandle, { username: third, expectedUsername: account.username }),
      ).toBeNull();
      await expectFound({ ...renamed, displayName: 'Again' });
      await expectFree(third, 'the name of the rename that did not apply');
    });

    test(names[7], async (rename) => {
      const base = randomUsername();
      const lower = await seed({ username: `${base}-cafe\u0301` }); // NFD
      const other = await seed();
      // Each rename must resolve: a store folding case or Unicode forms answers username_taken.
      for (const username of [`${base}-CAFE\u0301`, `${base}-café`, `${base}-cafe\u0301 `]) {
        const renamed = await rename(other.account.userHandle, { username });
        expectAccount(renamed, { ...other.account, username });
      }
      await expectFound(lower.account);
      const upper = lower.account.username.toUpperCase();
      expect(
        await rename(lower.account.userHandle, { username: randomUsername(), expectedUsername: upper }),
        'expectedUsername in another case',
      ).toBeNull();
      await expectFound(lower.account);
    });

    test(names[8], async (rename) => {
      const { account } = await seed();
      const username = randomUsername();
      const renamed = await rename(account.userHandle, { username });
      expect(renamed, 'renamed').toBeTruthy();
      const copy = renamed as Account;
      copy.username = 'mutated';
      copy.displayName = 'mutated';
      copy.createdAt.setTime(0);
      await expectFound({ ...account, username });
    });

    test(names[9], async (rename) => {
      const target = randomUsername();
      const contenders: Account[] = [];
      for (let i = 0; i < ctx.concurrency; i++) contenders.push((await seed()).account);
      const results = await concurrently(ctx.concurrency, (i) =>
        rename(contenders[i]!.userHandle, { username: target }),
      );
      const { fulfilled, rejectedCodes } = settle(results);
      expect(fulfilled, 'renames that resolved').toHaveLength(1);
      expect(rejectedCodes).toEqual(Array(ctx.concurrency - 1).fill('username_taken'));
      const winner = contenders[results.findIndex((r) => r.status === 'fulfilled')]!;
      await expectFound({ ...winner, username: target });
      for (const contender of contenders) {
        if (contender !== winner) await expectFound(contender);
      }
    });

    test(names[10], async (rename) => {
      const target = randomUsername();
      const half = Math.ceil(ctx.concurrency / 2);
      const renamers: Account[] = [];
      for (let i = 0; i < half; i++) renamers.push((await seed()).account);
      const creators = Array.from({ length: ctx.concurrency - half }, () => makeSignUp({ username: target }));
      const results = await concurrently<unknown>(ctx.concurrency, (i) =>
        i < half
          ? rename(renamers[i]!.userHandle, { username: target })
          : accounts().create(creators[i - half]!.account, creators[i - half]!.credential),
      );
      const { fulfilled, rejectedCodes } = settle(results);
      expect(fulfilled, 'renames and creates that resolved').toHaveLength(1);
      expect(rejectedCodes).toEqual(Array(ctx.concurrency - 1).fill('username_taken'));
      const holder = await accounts().findByUsername(target);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      const expected = winner < half ? renamers[winner]! : creators[winner - half]!.account;
      expectAccount(holder, { ...expected, username: target });
      for (const [i, renamer] of renamers.entries()) if (i !== winner) await expectFound(renamer);
      for (const [i, creator] of creators.entries()) {
        if (i + half !== winner)
          expect(await accounts().findByUserHandle(creator.account.userHandle), 'a losing create').toBeNull();
      }
    });

    test(names[11], async (rename) => {
      const { account } = await seed();
      const wanted = Array.from({ length: ctx.concurrency }, () => randomUsername());
      const results = await concurrently(ctx.concurrency, (i) =>
        rename(account.userHandle, { username: wanted[i]! }),
      );
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      const stored = await accounts().findByUserHandle(account.userHandle);
      expect(wanted.includes(stored?.username ?? ''), 'the stored name is one of the names asked for').toBe(
        true,
      );
      await expectFound({ ...account, username: stored!.username });
      for (const name of [account.username, ...wanted]) {
        if (name !== stored!.username) await expectFree(name, `a name it does not hold (${name})`);
      }
    });

    test(names[12], async (rename) => {
      for (let round = 0; round < DELETE_RACE_ROUNDS; round++) {
        const { account } = await seed();
        const username = randomUsername();
        // Each order of the calls in turn, so an in-process store (which runs the first to its end
        // before the second starts, unless it waits in between) meets both.
        const deleting = () => accounts().delete(account.userHandle);
        const renaming = () => rename(account.userHandle, { username });
        const [deleted, renamed] =
          round % 2 === 0
            ? await Promise.allSettled([deleting(), renaming()])
            : await Promise.allSettled([renaming(), deleting()]).then(([r, d]) => [d, r] as const);
        if (deleted.status === 'rejected') throw deleted.reason;
        if (renamed.status === 'rejected') throw renamed.reason;
        expect(deleted.value, 'the delete').not.toBeNull();
        expect(await accounts().findByUserHandle(account.userHandle), 'the account').toBeNull();
        await expectFree(username, `round ${round}: the new name`);
        await expectFree(account.username, `round ${round}: the old name`);
      }
    });
  });
}
