import {
  type AccountRename,
  createMemoryStores,
  type PassgateLogger,
  type PassgateStores,
  silentLogger,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { addPasskey, appPassgate, appUser, failure, signIn, signUp, withoutSignInStore } from './helpers.js';

type Harness = ReturnType<typeof appPassgate>;

/** Ada links her first passkey as ada@example.com. */
async function adaLinked(h: Harness) {
  const authenticator = new SoftwareAuthenticator();
  const linked = await (await addPasskey(h, authenticator, appUser(h))).result();
  return { authenticator, linked };
}

/** Grace, another application user. */
const grace = (h: Harness, name = 'ada@example.com') =>
  appUser(h, { userId: 'app-user-43', name, displayName: 'Grace Hopper' });

/** The ids username-first sign-in offers for `username` (decoys for an unknown one). */
async function offeredFor(h: Harness, username: string): Promise<string[]> {
  const start = await h.passgate.startAuthentication({ username });
  return (start.options.allowCredentials ?? []).map((c) => c.id).sort();
}

/** Memory stores whose accounts have no `rename`, as an adapter written before it. */
function storesWithoutRename(): PassgateStores {
  const stores = withoutSignInStore(createMemoryStores());
  const { rename: _rename, ...accounts } = stores.accounts;
  return { ...stores, accounts };
}

/** Memory stores whose `accounts.rename` runs `before` (once) ahead of the first rename. */
function storesWithHook(
  before: (stores: PassgateStores, userHandle: string) => Promise<void>,
): PassgateStores {
  const stores = createMemoryStores();
  const rename = stores.accounts.rename!.bind(stores.accounts);
  let pending = true;
  stores.accounts.rename = async (userHandle: string, change: AccountRename) => {
    if (pending) {
      pending = false;
      await before(stores, userHandle);
    }
    return rename(userHandle, change);
  };
  return stores;
}

/** From now on, counts the calls of `stores.accounts.rename`. */
function countRenames(stores: PassgateStores): { count: number } {
  const calls = { count: 0 };
  const rename = stores.accounts.rename!.bind(stores.accounts);
  stores.accounts.rename = (...args) => {
    calls.count++;
    return rename(...args);
  };
  return calls;
}

/** A logger keeping every info line with its fields. */
function infoLogger() {
  const lines: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logger: PassgateLogger = {
    debug() {},
    info(message, fields) {
      lines.push({ message, fields });
    },
    warn() {},
    error() {},
  };
  return { lines, logger };
}

describe('the name-change fix: the application calls renamePasskeyAccount, then the old name is free', () => {
  it.each([
    ['off', false],
    ['on', true],
  ])('A links as x, is renamed to y; B links as x; x finds B and y finds A (sign-up %s)', async (_, on) => {
    const h = appPassgate({ signUp: on });
    const ada = await adaLinked(h);
    // Before the application tells Passgate, the old name is still Ada's: 409 as ever.
    expect(await failure(h.passgate.startRegistration({ session: grace(h) }))).toMatchObject({
      code: 'username_taken',
      status: 409,
    });
    expect(await h.passgate.renamePasskeyAccount('app-user-42', { name: 'ada@lovelace.example' })).toBe(true);

    const graceDone = await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
    expect(graceDone.user).toEqual({
      id: 'app-user-43',
      name: 'ada@example.com',
      displayName: 'Grace Hopper',
    });
    expect(await offeredFor(h, 'ada@example.com')).toEqual([graceDone.credential.id]);
    expect(await offeredFor(h, 'ada@lovelace.example')).toEqual([ada.linked.credential.id]);
    // Ada keeps her link and passkey, and signs in under her new name.
    const signedIn = await signIn(h, ada.authenticator);
    expect(signedIn.user).toEqual({
      id: 'app-user-42',
      name: 'ada@lovelace.example',
      displayName: 'Ada Lovelace',
    });
  });
});

describe('a first passkey (link) under a name another account holds: 409 username_taken, no takeover', () => {
  it("another application user's name, even if the application may have renamed them: refused, holder kept", async () => {
    const h = appPassgate();
    const ada = await adaLinked(h);
    expect(await failure(h.passgate.startRegistration({ session: grace(h) }))).toMatchObject({
      code: 'username_taken',
    });
    expect(await h.stores.accounts.findByUserId('app-user-43')).toBeNull();
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@example.com',
    });
    expect(await offeredFor(h, 'ada@example.com')).toEqual([ada.linked.credential.id]);
  });

  it('a name taken between options and verify is refused at verify; nothing linked', async () => {
    const h = appPassgate();
    const racing = await addPasskey(h, new SoftwareAuthenticator(), grace(h));
    const ada = await adaLinked(h);
    expect(await failure(racing.result())).toMatchObject({ code: 'username_taken' });
    expect(await h.stores.accounts.findByUserId('app-user-43')).toBeNull();
    expect(await offeredFor(h, 'ada@example.com')).toEqual([ada.linked.credential.id]);
  });

  it("a Passgate sign-up's name: refused", async () => {
    const h = appPassgate({ signUp: true });
    await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    expect(
      await failure(h.passgate.startRegistration({ session: grace(h, 'bob@example.com') })),
    ).toMatchObject({
      code: 'username_taken',
    });
  });
});

describe('review finding 1: names the application keeps apart but Passgate normalises to one', () => {
  const cases = [
    {
      what: 'full-width ａ under an NFKC + lowercase normaliser',
      normalizeUsername: (u: string) => u.normalize('NFKC').toLowerCase().trim(),
      holder: 'alice@example.com',
      lookAlike: '\uff41lice@example.com',
    },
    {
      what: 'a combining accent under the default NFC',
      normalizeUsername: undefined,
      holder: 'jos\u00e9@example.com',
      lookAlike: 'jose\u0301@example.com',
    },
  ];

  for (const c of cases) {
    describe(c.what, () => {
      const setup = async () => {
        const h = appPassgate(c.normalizeUsername ? { normalizeUsername: c.normalizeUsername } : {});
        const alice = await (
          await addPasskey(h, new SoftwareAuthenticator(), appUser(h, { name: c.holder }))
        ).result();
        const holderNow = () => h.stores.accounts.findByUserId('app-user-42');
        const stored = (await holderNow())!.username;
        const expectUntouched = async () => {
          expect(await holderNow()).toMatchObject({ username: stored, userHandle: alice.account.userHandle });
          expect(await offeredFor(h, stored)).toEqual([alice.credential.id]);
        };
        return { h, stored, expectUntouched };
      };

      it('a first passkey under the look-alike: 409 username_taken; the holder keeps the name', async () => {
        const { h, expectUntouched } = await setup();
        expect(await failure(h.passgate.startRegistration({ session: grace(h, c.lookAlike) }))).toMatchObject(
          { code: 'username_taken' },
        );
        expect(await h.stores.accounts.findByUserId('app-user-43')).toBeNull();
        await expectUntouched();
      });

      it('renamePasskeyAccount to the look-alike: 409 username_taken; nothing changes', async () => {
        const { h, expectUntouched } = await setup();
        await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
        expect(
          await failure(h.passgate.renamePasskeyAccount('app-user-43', { name: c.lookAlike })),
        ).toMatchObject({ code: 'username_taken', status: 409 });
        expect(await h.stores.accounts.findByUserId('app-user-43')).toMatchObject({
          username: 'grace@example.com',
        });
        await expectUntouched();
      });

      it('a passkey added under the look-alike: added, but the stored copies stay as they were', async () => {
        const { h, expectUntouched } = await setup();
        await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
        const added = await (
          await addPasskey(h, new SoftwareAuthenticator(), grace(h, c.lookAlike))
        ).result();
        expect(added.user.id).toBe('app-user-43');
        expect(await h.stores.accounts.findByUserId('app-user-43')).toMatchObject({
          username: 'grace@example.com',
        });
        await expectUntouched();
      });
    });
  }
});

describe("adding a passkey refreshes the stored copy of the application's names, best effort", () => {
  it('renamed to the current name; the old name is then free for a new user', async () => {
    const h = appPassgate();
    const ada = await adaLinked(h);
    const renamed = appUser(h, { name: 'ada@lovelace.example' });
    const start = await h.passgate.startRegistration({ session: renamed });
    expect(start.options.user.name).toBe('ada@lovelace.example');
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@lovelace.example',
    });
    expect(await offeredFor(h, 'ada@lovelace.example')).toEqual([ada.linked.credential.id]);
    const graceDone = await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
    expect(await offeredFor(h, 'ada@example.com')).toEqual([graceDone.credential.id]);
  });

  it('review finding 3: a name a sign-up holds keeps the copy, logs the user id only, and the passkey is added', async () => {
    const { lines, logger } = infoLogger();
    const h = appPassgate({ signUp: true, logger });
    const ada = await adaLinked(h);
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    const added = await (
      await addPasskey(h, new SoftwareAuthenticator(), appUser(h, { name: 'bob@example.com' }))
    ).result();
    expect(added.user).toMatchObject({ id: 'app-user-42', name: 'bob@example.com' });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@example.com',
    });
    expect(await offeredFor(h, 'ada@example.com')).toEqual(
      [ada.linked.credential.id, added.credential.id].sort(),
    );
    expect(await offeredFor(h, 'bob@example.com')).toEqual([bob.credential.id]);
    const kept = lines.filter((l) => l.message.includes('stored name was kept'));
    expect(kept).toEqual([{ message: expect.any(String), fields: { userId: 'app-user-42' } }]);
    expect(JSON.stringify(kept)).not.toMatch(/example\.com/);
  });

  it('another application user holding the name: kept the same way (no takeover), the passkey added', async () => {
    const h = appPassgate();
    await adaLinked(h);
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
    expect(await h.stores.accounts.findByUserId('app-user-43')).toMatchObject({
      username: 'grace@example.com',
    });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@example.com',
    });
  });

  it('a compare-and-set on the name it read: a rename by the application meanwhile is not overwritten', async () => {
    const stores = storesWithHook(async (s, userHandle) => {
      await s.accounts.rename!(userHandle, { username: 'ada@newest.example' });
    });
    const h = appPassgate({ stores });
    await adaLinked(h);
    await h.passgate.startRegistration({ session: appUser(h, { name: 'ada@lovelace.example' }) });
    expect(await stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@newest.example',
    });
  });

  it('a new display name alone is stored too; the same names write nothing', async () => {
    const h = appPassgate();
    await adaLinked(h);
    await h.passgate.startRegistration({ session: appUser(h, { displayName: 'Ada King' }) });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({ displayName: 'Ada King' });
    const renames = countRenames(h.stores);
    await h.passgate.startRegistration({ session: appUser(h, { displayName: 'Ada King' }) });
    expect(renames.count).toBe(0);
  });
});

describe('renamePasskeyAccount: the application tells Passgate a user changed their name', () => {
  it('moves the stored name: username-first finds the new one, and the old one is free', async () => {
    const h = appPassgate();
    const { linked } = await adaLinked(h);
    expect(await h.passgate.renamePasskeyAccount('app-user-42', { name: ' ada@lovelace.example ' })).toBe(
      true,
    );
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@lovelace.example', // canonical (trimmed)
      displayName: 'Ada Lovelace', // kept when not given
    });
    expect(await offeredFor(h, 'ada@lovelace.example')).toEqual([linked.credential.id]);
    expect(await h.stores.accounts.findByUsername('ada@example.com')).toBeNull();
    await h.passgate.renamePasskeyAccount('app-user-42', {
      name: 'ada@lovelace.example',
      displayName: 'Ada King',
    });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({ displayName: 'Ada King' });
    // The names it already has: true, and nothing written.
    const renames = countRenames(h.stores);
    expect(await h.passgate.renamePasskeyAccount('app-user-42', { name: 'ada@lovelace.example' })).toBe(true);
    expect(renames.count).toBe(0);
  });

  it('a name any other account holds is username_taken and nothing changes', async () => {
    const h = appPassgate({ signUp: true });
    await adaLinked(h);
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
    await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    for (const name of ['ada@example.com', 'bob@example.com']) {
      expect(await failure(h.passgate.renamePasskeyAccount('app-user-43', { name })), name).toMatchObject({
        code: 'username_taken',
        status: 409,
      });
    }
    expect(await h.stores.accounts.findByUserId('app-user-43')).toMatchObject({
      username: 'grace@example.com',
    });
    expect((await h.stores.accounts.findByUsername('ada@example.com'))?.userId).toBe('app-user-42');
  });

  it('false for a user without a passkey account; invalid names are invalid_request', async () => {
    const h = appPassgate();
    expect(await h.passgate.renamePasskeyAccount('nobody', { name: 'nobody@example.com' })).toBe(false);
    await adaLinked(h);
    for (const names of [
      { name: ' ' },
      { name: 'x'.repeat(65) },
      { name: 'a\u0001b' },
      { name: 'ok', displayName: '' },
    ]) {
      expect(
        await failure(h.passgate.renamePasskeyAccount('app-user-42', names)),
        JSON.stringify(names),
      ).toMatchObject({
        code: 'invalid_request',
      });
    }
    await expect(h.passgate.renamePasskeyAccount('', { name: 'a' })).rejects.toThrow(TypeError);
  });

  it("stores without AccountRepository.rename: a TypeError, and the core keeps today's rules", async () => {
    const h = appPassgate({ stores: storesWithoutRename(), logger: silentLogger });
    await expect(h.passgate.renamePasskeyAccount('app-user-42', { name: 'a@example.com' })).rejects.toThrow(
      TypeError,
    );
    await adaLinked(h);
    // A further passkey keeps the stored copy; a new user with the old name is refused, as before.
    await (
      await addPasskey(h, new SoftwareAuthenticator(), appUser(h, { name: 'ada@lovelace.example' }))
    ).result();
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@example.com',
    });
    expect(await failure(h.passgate.startRegistration({ session: grace(h) }))).toMatchObject({
      code: 'username_taken',
    });
  });
});
