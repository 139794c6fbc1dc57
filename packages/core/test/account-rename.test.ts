import {
  type Account,
  type AccountRename,
  createMemoryStores,
  type PassgateStores,
  silentLogger,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { makeSignUp } from '@passgate/testing/conformance';
import { describe, expect, it } from 'vitest';
import {
  addPasskey,
  appPassgate,
  appUser,
  failure,
  type PassgateOverrides,
  signIn,
  signUp,
  withoutSignInStore,
} from './helpers.js';

/** Ada links her first passkey as ada@example.com, then changes her email in the application. */
async function adaRenamedInTheApp(h: ReturnType<typeof appPassgate>) {
  const authenticator = new SoftwareAuthenticator();
  const linked = await (await addPasskey(h, authenticator, appUser(h))).result();
  const renamed = appUser(h, { name: 'ada@lovelace.example' }); // what identify answers from now on
  return { authenticator, linked, renamed };
}

/** Grace, a new application user, now has Ada's old email. */
const grace = (h: ReturnType<typeof appPassgate>, name = 'ada@example.com') =>
  appUser(h, { userId: 'app-user-43', name, displayName: 'Grace Hopper' });

/** The ids username-first sign-in offers for `username` (decoys for an unknown one). */
async function offeredFor(h: ReturnType<typeof appPassgate>, username: string): Promise<string[]> {
  const start = await h.passgate.startAuthentication({ username });
  return (start.options.allowCredentials ?? []).map((c) => c.id).sort();
}

/** Memory stores whose accounts have no `rename`, as an adapter written before it. */
function storesWithoutRename(): PassgateStores {
  const stores = withoutSignInStore(createMemoryStores());
  const { rename: _rename, ...accounts } = stores.accounts;
  return { ...stores, accounts };
}

/** Memory stores whose `accounts.rename` runs `before` (once) ahead of the rename it intercepts. */
function storesWithHook(
  before: (stores: PassgateStores, userHandle: string, rename: AccountRename) => Promise<void>,
): PassgateStores {
  const stores = createMemoryStores();
  const rename = stores.accounts.rename!.bind(stores.accounts);
  let pending = true;
  stores.accounts.rename = async (userHandle, change) => {
    if (pending && change.expectedUsername !== undefined) {
      pending = false;
      await before(stores, userHandle, change);
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

describe("a stale username: the application's user renamed after their first passkey", () => {
  it.each([
    ['off', false],
    ['on', true],
  ])(
    "a new app user whose name is another app user's old name gets a first passkey, sign-up %s (was 409 username_taken)",
    async (_, signUpOn) => {
      const h = appPassgate({ signUp: signUpOn });
      const ada = await adaRenamedInTheApp(h);
      const { result } = await addPasskey(h, new SoftwareAuthenticator(), grace(h));
      const done = await result();
      expect(done.user).toEqual({ id: 'app-user-43', name: 'ada@example.com', displayName: 'Grace Hopper' });
      expect(done.account.source).toBe('application');
      // Username-first sign-in with the name finds Grace's passkey, not Ada's.
      expect(await offeredFor(h, 'ada@example.com')).toEqual([done.credential.id]);
      // Ada keeps her link and passkey; her stale copy was released (no sign-in can look it up).
      const adaAccount = await h.stores.accounts.findByUserId('app-user-42');
      expect(adaAccount?.userHandle).toBe(ada.linked.account.userHandle);
      expect(adaAccount?.username.startsWith('\u0001released:')).toBe(true);
      expect(await h.passgate.listUserCredentials('app-user-42')).toHaveLength(1);
    },
  );

  it('the released account still signs in, named by its display name, and its next passkey stores the current name', async () => {
    const h = appPassgate();
    const ada = await adaRenamedInTheApp(h);
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
    const signedIn = await signIn(h, ada.authenticator);
    expect(signedIn.user).toEqual({ id: 'app-user-42', name: 'Ada Lovelace', displayName: 'Ada Lovelace' });
    const { signal } = await h.passgate.listCredentials(signedIn.session);
    expect(signal?.name).toBe('Ada Lovelace');

    const second = await (await addPasskey(h, new SoftwareAuthenticator(), ada.renamed)).result();
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@lovelace.example',
    });
    expect(await offeredFor(h, 'ada@lovelace.example')).toEqual(
      [ada.linked.credential.id, second.credential.id].sort(),
    );
  });

  it("a Passgate sign-up's username stays its own: 409 username_taken at options and at verify", async () => {
    const h = appPassgate({ signUp: true });
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    expect(bob.account.source).toBe('sign_up');
    expect(
      await failure(h.passgate.startRegistration({ session: grace(h, 'bob@example.com') })),
    ).toMatchObject({
      code: 'username_taken',
    });
    // A sign-up that takes the name between a link's options and its verify keeps it too.
    const racing = await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'carol@example.com'));
    await signUp(h, new SoftwareAuthenticator(), 'carol@example.com');
    expect(await failure(racing.result())).toMatchObject({ code: 'username_taken' });
    expect(await h.stores.accounts.findByUserId('app-user-43')).toBeNull();
    expect(await h.stores.accounts.findByUsername('carol@example.com')).toMatchObject({ source: 'sign_up' });
  });

  it('a sign-up made while sign-up was on keeps its name after sign-up is turned off', async () => {
    const before = appPassgate({ signUp: true });
    await signUp(before, new SoftwareAuthenticator(), 'bob@example.com');
    const h = appPassgate({ signUp: false, stores: before.stores });
    expect(
      await failure(h.passgate.startRegistration({ session: grace(h, 'bob@example.com') })),
    ).toMatchObject({
      code: 'username_taken',
    });
  });

  describe('an account stored before sources were recorded (no source)', () => {
    const legacy = async (overrides: PassgateOverrides) => {
      const h = appPassgate(overrides);
      const { account, credential } = makeSignUp({ username: 'ada@example.com', userId: 'app-user-42' });
      await h.stores.accounts.create(account, credential);
      return h;
    };

    it("with Passgate's own sign-up off, every account is the application's: the stale name is released", async () => {
      const h = await legacy({ signUp: false });
      await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
      expect((await h.stores.accounts.findByUsername('ada@example.com'))?.userId).toBe('app-user-43');
    });

    it('with sign-up on, it may be a sign-up: 409 username_taken, as before', async () => {
      const h = await legacy({ signUp: true });
      expect(await failure(h.passgate.startRegistration({ session: grace(h) }))).toMatchObject({
        code: 'username_taken',
      });
      expect((await h.stores.accounts.findByUsername('ada@example.com'))?.userId).toBe('app-user-42');
    });
  });

  it('the release is a compare-and-set: a holder renamed meanwhile keeps its new name, and the link succeeds', async () => {
    // Ada's own rename lands between the link's read of the holder and its release of the name.
    const stores = storesWithHook(async (s, userHandle) => {
      await s.accounts.rename!(userHandle, { username: 'ada@lovelace.example' });
    });
    const h = appPassgate({ stores });
    await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    const done = await (await addPasskey(h, new SoftwareAuthenticator(), grace(h))).result();
    expect(done.user.name).toBe('ada@example.com');
    expect(await stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@lovelace.example',
    });
  });

  it('a sign-up that takes the released name before the link retries wins: 409 username_taken, nothing linked', async () => {
    let bob: Account | undefined;
    const stores = storesWithHook(async (s, _userHandle, change) => {
      // Released first, then a sign-up takes the name before the link's create is tried again.
      await s.accounts.rename!(_userHandle, change);
      const { account, credential } = makeSignUp({ username: change.expectedUsername!, source: 'sign_up' });
      await s.accounts.create(account, credential);
      bob = account;
    });
    const h = appPassgate({ stores, signUp: true });
    const ada = appUser(h);
    // Ada's account is the application's; Grace's first passkey releases its copy of the name.
    await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    const attempt = await addPasskey(h, new SoftwareAuthenticator(), grace(h));
    expect(await failure(attempt.result())).toMatchObject({ code: 'username_taken' });
    expect((await stores.accounts.findByUsername('ada@example.com'))?.userHandle).toBe(bob?.userHandle);
    expect(await stores.accounts.findByUserId('app-user-43')).toBeNull();
  });
});

describe("adding a passkey refreshes the stored copy of the application's names", () => {
  it('renamed to the current name; a stale copy of it held by another app user is released', async () => {
    const h = appPassgate();
    const ada = await adaRenamedInTheApp(h);
    // Grace linked as grace@example.com; the application then gives her Ada's old email.
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
    const start = await h.passgate.startRegistration({ session: grace(h) });
    expect(start.options.user.name).toBe('ada@example.com');
    expect(await h.stores.accounts.findByUserId('app-user-43')).toMatchObject({
      username: 'ada@example.com',
    });
    expect(await h.stores.accounts.findByUsername('grace@example.com')).toBeNull();
    const released = await h.stores.accounts.findByUserHandle(ada.linked.account.userHandle);
    expect(released?.username.startsWith('\u0001released:')).toBe(true);
  });

  it("a sign-up's name is 409 username_taken at register/options, and the stored copy stays", async () => {
    const h = appPassgate({ signUp: true });
    await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    expect(
      await failure(h.passgate.startRegistration({ session: appUser(h, { name: 'bob@example.com' }) })),
    ).toMatchObject({ code: 'username_taken' });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@example.com',
    });
  });

  it('a new display name alone is stored too; the same names write nothing', async () => {
    const h = appPassgate();
    await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    await h.passgate.startRegistration({ session: appUser(h, { displayName: 'Ada King' }) });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({ displayName: 'Ada King' });
    const renames = countRenames(h.stores);
    await h.passgate.startRegistration({ session: appUser(h, { displayName: 'Ada King' }) });
    expect(renames.count).toBe(0);
  });
});

describe('renamePasskeyAccount: the application tells Passgate a user changed their name', () => {
  it('moves the stored name: username-first finds the new one, and the old one is free for a new user', async () => {
    const h = appPassgate();
    const { credential } = await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    expect(await h.passgate.renamePasskeyAccount('app-user-42', { name: ' ada@lovelace.example ' })).toBe(
      true,
    );
    expect(await h.stores.accounts.findByUserId('app-user-42')).toMatchObject({
      username: 'ada@lovelace.example', // canonical (trimmed)
      displayName: 'Ada Lovelace', // kept when not given
    });
    expect(await offeredFor(h, 'ada@lovelace.example')).toEqual([credential.id]);
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

  it('releases a stale copy held by another app user; a sign-up holding the name is username_taken', async () => {
    const h = appPassgate({ signUp: true });
    await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    await (await addPasskey(h, new SoftwareAuthenticator(), grace(h, 'grace@example.com'))).result();
    expect(await h.passgate.renamePasskeyAccount('app-user-43', { name: 'ada@example.com' })).toBe(true);
    expect((await h.stores.accounts.findByUsername('ada@example.com'))?.userId).toBe('app-user-43');
    await signUp(h, new SoftwareAuthenticator(), 'bob@example.com');
    expect(
      await failure(h.passgate.renamePasskeyAccount('app-user-43', { name: 'bob@example.com' })),
    ).toMatchObject({
      code: 'username_taken',
      status: 409,
    });
  });

  it('false for a user without a passkey account; invalid names are invalid_request', async () => {
    const h = appPassgate();
    expect(await h.passgate.renamePasskeyAccount('nobody', { name: 'nobody@example.com' })).toBe(false);
    await (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
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
      /rename/,
    );
    await adaRenamedInTheApp(h);
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
