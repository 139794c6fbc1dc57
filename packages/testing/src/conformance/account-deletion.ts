import { concurrently, expectAccount, expectCredential, ids } from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { makeCredential, makeSignUp } from './fixtures.js';

/**
 * Contract tests for `AccountRepository.delete`: removing an account (an application's user deleted,
 * or a support tool's "remove passkeys") takes its credentials, its username and its user id with it.
 */
export function describeAccountDeletionContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('AccountRepository.delete', () => {
    const accounts = () => ctx.stores().accounts;
    const credentials = () => ctx.stores().credentials;

    it('deletes the account and every credential it owns, and resolves their ids', async () => {
      const { account, credential } = makeSignUp();
      await accounts().create(account, credential);
      const second = makeCredential({ userHandle: account.userHandle });
      await credentials().create(second);

      const deleted = await accounts().delete(account.userHandle);
      expect([...(deleted ?? [])].sort()).toEqual([credential.id, second.id].sort());
      expect(await accounts().findByUserHandle(account.userHandle)).toBeNull();
      expect(await accounts().findByUserId(account.userId)).toBeNull();
      expect(await accounts().findByUsername(account.username)).toBeNull();
      expect(await credentials().findById(credential.id)).toBeNull();
      expect(await credentials().findById(second.id)).toBeNull();
      expect(await credentials().listByUserHandle(account.userHandle)).toEqual([]);
    });

    it('resolves null for an unknown user handle and changes nothing else', async () => {
      const other = makeSignUp();
      await accounts().create(other.account, other.credential);
      expect(await accounts().delete(makeSignUp().account.userHandle)).toBeNull();
      expectAccount(await accounts().findByUserHandle(other.account.userHandle), other.account);
      expectCredential(await credentials().findById(other.credential.id), other.credential);
    });

    it("leaves other accounts' credentials alone", async () => {
      const doomed = makeSignUp();
      const kept = makeSignUp();
      await accounts().create(doomed.account, doomed.credential);
      await accounts().create(kept.account, kept.credential);
      await accounts().delete(doomed.account.userHandle);
      expectAccount(await accounts().findByUserId(kept.account.userId), kept.account);
      expect(ids(await credentials().listByUserHandle(kept.account.userHandle))).toEqual([
        kept.credential.id,
      ]);
    });

    it('frees the username, the user id and the credential ids for a new account', async () => {
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      await accounts().delete(first.account.userHandle);
      // The same application user links again later: same user id and username, a new user handle.
      const again = makeSignUp(
        { userId: first.account.userId, username: first.account.username },
        { id: first.credential.id },
      );
      await accounts().create(again.account, again.credential);
      expectAccount(await accounts().findByUserId(first.account.userId), again.account);
      expectCredential(await credentials().findById(first.credential.id), again.credential);
      expect(await accounts().findByUserHandle(first.account.userHandle)).toBeNull();
    });

    it('deletes an account whose credentials were all deleted before', async () => {
      const { account, credential } = makeSignUp();
      await accounts().create(account, credential);
      expect(await credentials().delete(account.userHandle, credential.id, { allowLast: true })).toBe(
        'deleted',
      );
      expect(await accounts().delete(account.userHandle)).toEqual([]);
      expect(await accounts().findByUserId(account.userId)).toBeNull();
    });

    it('of concurrent deletes of one account, exactly one resolves the ids and the others null', async () => {
      const { account, credential } = makeSignUp();
      await accounts().create(account, credential);
      const results = await concurrently(ctx.concurrency, () => accounts().delete(account.userHandle));
      const values = results.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      expect(values.filter((v) => v !== null)).toEqual([[credential.id]]);
      expect(await credentials().findById(credential.id)).toBeNull();
    });
  });
}
