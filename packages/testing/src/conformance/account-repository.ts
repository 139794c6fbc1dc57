import type { Account } from '@passgate/core';
import {
  codeOf,
  concurrently,
  expectAccount,
  expectCredential,
  expectRejectsWithCode,
  ids,
  rejectionOf,
  settle,
} from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import {
  makeSignUp,
  randomBase64url,
  randomCredentialId,
  randomUsername,
  unicodeString,
} from './fixtures.js';

/** Contract tests for `AccountRepository` (see its doc comment in `@passgate/core`). */
export function describeAccountRepositoryContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('AccountRepository', () => {
    const accounts = () => ctx.stores().accounts;
    const credentials = () => ctx.stores().credentials;

    /** The account is readable through all three finders. */
    const expectPersisted = async (expected: Account) => {
      expectAccount(await accounts().findByUserHandle(expected.userHandle), expected);
      expectAccount(await accounts().findByUserId(expected.userId), expected);
      expectAccount(await accounts().findByUsername(expected.username), expected);
    };

    /** Nothing of this account is readable through any finder. */
    const expectAbsent = async (account: Account, what = 'account') => {
      expect(await accounts().findByUserHandle(account.userHandle), `${what} by user handle`).toBeNull();
      expect(await accounts().findByUserId(account.userId), `${what} by user id`).toBeNull();
      expect(await accounts().findByUsername(account.username), `${what} by username`).toBeNull();
    };

    it('create, then find by user handle, user id and username', async () => {
      const { account, credential } = makeSignUp();
      await accounts().create(account, credential);
      await expectPersisted(account);
    });

    it('round-trips Unicode usernames and display names of 64 code points', async () => {
      const suffix = `-${randomBase64url(6)}`;
      const { account, credential } = makeSignUp({
        username: unicodeString(64, suffix).toLowerCase(),
        displayName: unicodeString(64, '👋'),
        createdAt: new Date(Date.UTC(2024, 6, 7, 8, 9, 10, 11)),
      });
      expect([...account.username]).toHaveLength(64);
      expect([...account.displayName]).toHaveLength(64);
      await accounts().create(account, credential);
      await expectPersisted(account);
    });

    it('finds by exact username only: no case folding or Unicode normalisation', async () => {
      const base = randomUsername();
      const { account, credential } = makeSignUp({ username: `${base}-\u00e9` }); // NFC é
      await accounts().create(account, credential);
      expect(await accounts().findByUsername(account.username.toUpperCase()), 'upper case').toBeNull();
      expect(await accounts().findByUsername(`${base}-e\u0301`), 'NFD form').toBeNull();
      expect(await accounts().findByUsername(`${account.username} `), 'trailing space').toBeNull();
      expect(await accounts().findByUsername(base), 'prefix').toBeNull();
      expectAccount(await accounts().findByUsername(account.username), account);
    });

    it('resolves null for unknown user handle, user id and username', async () => {
      await expectAbsent(makeSignUp().account);
    });

    it('create stores the first credential where the credential repository reads it', async () => {
      const { account, credential } = makeSignUp({}, { nickname: 'First', counter: 3 });
      await accounts().create(account, credential);
      expectCredential(await credentials().findById(credential.id), credential);
      const listed = await credentials().listByUserHandle(account.userHandle);
      expect(listed).toHaveLength(1);
      expectCredential(listed[0], credential);
    });

    it('rejects a taken username with username_taken and writes neither account nor credential', async () => {
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      const second = makeSignUp({ username: first.account.username });
      await expectRejectsWithCode(accounts().create(second.account, second.credential), 'username_taken');
      expect(await accounts().findByUserHandle(second.account.userHandle)).toBeNull();
      expect(await accounts().findByUserId(second.account.userId)).toBeNull();
      expect(await credentials().findById(second.credential.id)).toBeNull();
      expect(await credentials().listByUserHandle(second.account.userHandle)).toEqual([]);
      await expectPersisted(first.account);
    });

    it('rejects the very same sign-up made a second time with username_taken', async () => {
      // As for a credential: equal values are no proof that this call already ran.
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      await expectRejectsWithCode(
        accounts().create(structuredClone(first.account), structuredClone(first.credential)),
        'username_taken',
      );
      await expectPersisted(first.account);
      expect(ids(await credentials().listByUserHandle(first.account.userHandle))).toEqual([
        first.credential.id,
      ]);
    });

    it('rejects a taken credential id with credential_exists and writes no account', async () => {
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      const second = makeSignUp({}, { id: first.credential.id });
      await expectRejectsWithCode(accounts().create(second.account, second.credential), 'credential_exists');
      await expectAbsent(second.account);
      expect(await credentials().listByUserHandle(second.account.userHandle)).toEqual([]);
      expectCredential(await credentials().findById(first.credential.id), first.credential);
      await expectPersisted(first.account);
    });

    it('rejects a taken user handle or user id with a plain Error and writes nothing', async () => {
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      const sameHandle = makeSignUp({ userHandle: first.account.userHandle });
      const sameUserId = makeSignUp({ userId: first.account.userId });
      for (const [what, attempt] of [
        ['user handle', sameHandle],
        ['user id', sameUserId],
      ] as const) {
        const error = await rejectionOf(accounts().create(attempt.account, attempt.credential));
        expect(error, `taken ${what}`).toBeInstanceOf(Error);
        // Not a user-facing code: a collision of random identifiers is a bug, not a taken name.
        expect(['username_taken', 'credential_exists'], `taken ${what}`).not.toContain(codeOf(error));
        expect(await accounts().findByUsername(attempt.account.username), `taken ${what}`).toBeNull();
        expect(await credentials().findById(attempt.credential.id), `taken ${what}`).toBeNull();
      }
      await expectPersisted(first.account);
      expect(ids(await credentials().listByUserHandle(first.account.userHandle))).toEqual([
        first.credential.id,
      ]);
    });

    it('of concurrent creates with one username, exactly one resolves and only its credential exists', async () => {
      const username = randomUsername();
      const attempts = Array.from({ length: ctx.concurrency }, () => makeSignUp({ username }));
      const results = await concurrently(ctx.concurrency, (i) =>
        accounts().create(attempts[i]!.account, attempts[i]!.credential),
      );
      const { fulfilled, rejectedCodes } = settle(results);
      expect(fulfilled).toHaveLength(1);
      expect(rejectedCodes).toEqual(Array(ctx.concurrency - 1).fill('username_taken'));
      const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
      await expectPersisted(winner.account);
      for (const attempt of attempts) {
        const isWinner = attempt === winner;
        const credential = await credentials().findById(attempt.credential.id);
        expect(credential !== null, 'only the winner has a credential').toBe(isWinner);
        if (!isWinner) expect(await accounts().findByUserHandle(attempt.account.userHandle)).toBeNull();
      }
    });

    it('of concurrent creates with one credential id, exactly one resolves and only its account exists', async () => {
      const id = randomCredentialId();
      const attempts = Array.from({ length: ctx.concurrency }, () => makeSignUp({}, { id }));
      const results = await concurrently(ctx.concurrency, (i) =>
        accounts().create(attempts[i]!.account, attempts[i]!.credential),
      );
      const { fulfilled, rejectedCodes } = settle(results);
      expect(fulfilled).toHaveLength(1);
      expect(rejectedCodes).toEqual(Array(ctx.concurrency - 1).fill('credential_exists'));
      const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
      await expectPersisted(winner.account);
      expectCredential(await credentials().findById(id), winner.credential);
      for (const attempt of attempts) {
        if (attempt !== winner) await expectAbsent(attempt.account, 'losing account');
      }
    });

    it('returns fresh copies: mutating a returned account changes nothing stored', async () => {
      const { account, credential } = makeSignUp();
      const snapshot = structuredClone(account);
      await accounts().create(account, credential);
      account.createdAt.setTime(0); // the created object is not kept by reference either
      account.displayName = 'mutated';
      for (const found of [
        await accounts().findByUserHandle(snapshot.userHandle),
        await accounts().findByUserId(snapshot.userId),
        await accounts().findByUsername(snapshot.username),
      ]) {
        if (!found) continue;
        found.createdAt.setTime(0);
        found.displayName = 'mutated';
        found.username = 'mutated';
      }
      await expectPersisted(snapshot);
    });
  });
}
