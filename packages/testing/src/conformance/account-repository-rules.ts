import { randomBytes } from 'node:crypto';
import type { Account } from '@passgate/core';
import { codeOf, expectAccount, expectCredential, expectRejectsWithCode, rejectionOf } from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { makeSignUp, randomUserId, randomUsername } from './fixtures.js';

/**
 * Contract tests for the exact rules of `AccountRepository`: names and ids compared exactly (case,
 * accents, Unicode form, full length), input objects copied, and which rejection wins when several
 * apply (see the doc comments in `@passgate/core`'s `stores.ts`).
 */
export function describeAccountRepositoryRules(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('AccountRepository rules', () => {
    const accounts = () => ctx.stores().accounts;
    const credentials = () => ctx.stores().credentials;

    const expectFoundByAll = async (expected: Account) => {
      expectAccount(await accounts().findByUserHandle(expected.userHandle), expected);
      expectAccount(await accounts().findByUserId(expected.userId), expected);
      expectAccount(await accounts().findByUsername(expected.username), expected);
    };

    it('usernames that differ only in case, accents, Unicode form or ß/ss are different accounts', async () => {
      const base = randomUsername();
      const names = [
        `${base}-strasse`,
        `${base}-STRASSE`,
        `${base}-straße`,
        `${base}-Straße`,
        `${base}-cafe`,
        `${base}-café`, // NFC
        `${base}-cafe\u0301`, // NFD
        `${base}-cafe `, // trailing space
      ];
      const made = names.map((username) => makeSignUp({ username }));
      // Each create must resolve: a store comparing case- or accent-insensitively answers username_taken.
      for (const { account, credential } of made) await accounts().create(account, credential);
      for (const { account } of made) await expectFoundByAll(account);
    });

    it('user ids are compared exactly: case and full length', async () => {
      const id = `User_${randomBytes(6).toString('hex')}`;
      const variants = [id, id.toLowerCase(), id.toUpperCase(), `${id}x`];
      const made = variants.map((userId) => makeSignUp({ userId }));
      for (const { account, credential } of made) await accounts().create(account, credential);
      for (const { account } of made) await expectFoundByAll(account);
      expect(await accounts().findByUserId(id.slice(0, -1)), 'a prefix of a user id').toBeNull();
      expect(await accounts().findByUserId(randomUserId()), 'an unknown user id').toBeNull();
    });

    it('user handles are compared over their full length', async () => {
      const handle = randomBytes(30);
      const short = makeSignUp({ userHandle: handle.toString('base64url') });
      const long = makeSignUp({ userHandle: Buffer.concat([handle, randomBytes(3)]).toString('base64url') });
      await accounts().create(short.account, short.credential);
      await accounts().create(long.account, long.credential);
      await expectFoundByAll(short.account);
      await expectFoundByAll(long.account);
    });

    it('keeps display names and usernames exactly: no normalisation, trimming or case change', async () => {
      const { account, credential } = makeSignUp({
        username: `${randomUsername()}-Jose\u0301`,
        displayName: ' Jose\u0301 ÅNGSTRÖM\u212b ',
      });
      await accounts().create(account, credential);
      const found = await accounts().findByUserHandle(account.userHandle);
      expect(found?.displayName === account.displayName, 'display name kept code unit for code unit').toBe(
        true,
      );
      expect(found?.username === account.username, 'username kept code unit for code unit').toBe(true);
      await expectFoundByAll(account);
    });

    it('keeps its own copy of the first credential: mutating it after create changes nothing', async () => {
      const { account, credential } = makeSignUp();
      const snapshot = structuredClone(credential);
      await accounts().create(account, credential);
      credential.publicKey[0] = (credential.publicKey[0]! + 1) % 256;
      credential.transports.push('usb');
      credential.createdAt.setTime(0);
      credential.counter = 77;
      credential.nickname = 'mutated';
      expectCredential(await credentials().findById(snapshot.id), snapshot);
      const listed = await credentials().listByUserHandle(account.userHandle);
      expectCredential(listed[0], snapshot);
    });

    it('username_taken wins over credential_exists, which wins over a taken user handle or user id', async () => {
      const first = makeSignUp();
      await accounts().create(first.account, first.credential);
      const everything = makeSignUp(
        {
          username: first.account.username,
          userHandle: first.account.userHandle,
          userId: first.account.userId,
        },
        { id: first.credential.id },
      );
      await expectRejectsWithCode(
        accounts().create(everything.account, everything.credential),
        'username_taken',
      );
      const idAndHandle = makeSignUp(
        { userHandle: first.account.userHandle, userId: first.account.userId },
        { id: first.credential.id },
      );
      await expectRejectsWithCode(
        accounts().create(idAndHandle.account, idAndHandle.credential),
        'credential_exists',
      );
      const handleAndId = makeSignUp({ userHandle: first.account.userHandle, userId: first.account.userId });
      const error = await rejectionOf(accounts().create(handleAndId.account, handleAndId.credential));
      expect(error).toBeInstanceOf(Error);
      expect(['username_taken', 'credential_exists', 'store_unavailable']).not.toContain(codeOf(error));
      await expectFoundByAll(first.account);
      // Nothing of the rejected attempts was written.
      for (const attempt of [idAndHandle, handleAndId])
        expect(await accounts().findByUsername(attempt.account.username)).toBeNull();
      expect(await credentials().findById(handleAndId.credential.id)).toBeNull();
    });
  });
}
