import type { PassgateLogger } from '@passgate/core';
import { identifyRequest } from '@passgate/core/http';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import {
  addPasskey,
  appPassgate,
  appUser,
  bytesOf,
  eventsNamed,
  failure,
  makePassgate,
  signIn,
  signUp,
} from './helpers.js';

describe("the application's own users", () => {
  it('a first passkey links the app user id to a new random user handle, never derived from the id or name', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const { start, result } = await addPasskey(h, new SoftwareAuthenticator(), ada);
    const handle = start.options.user.id;
    expect(Buffer.from(handle, 'base64url').length).toBe(32);
    for (const value of [ada.userId, ada.name]) {
      expect(Buffer.from(handle, 'base64url').toString('utf8')).not.toContain(value);
      expect(handle).not.toBe(Buffer.from(value).toString('base64url'));
    }
    expect(start.options.user).toMatchObject({ name: 'ada@example.com', displayName: 'Ada Lovelace' });
    const done = await result();
    expect(done.user).toEqual({ id: 'app-user-42', name: 'ada@example.com', displayName: 'Ada Lovelace' });
    expect(done.session).toBeNull(); // the application keeps its own sign-in
    const account = await h.stores.accounts.findByUserId('app-user-42');
    expect(account?.userHandle).toBe(handle);
    // Another user's first passkey gets another handle.
    const grace = appUser(h, { userId: 'app-user-43', name: 'grace@example.com' });
    const second = await addPasskey(h, new SoftwareAuthenticator(), grace);
    expect(second.start.options.user.id).not.toBe(handle);
  });

  it('sign-in with a linked passkey answers with the application user id', async () => {
    const h = appPassgate();
    const authenticator = new SoftwareAuthenticator();
    await (await addPasskey(h, authenticator, appUser(h))).result();
    const result = await signIn(h, authenticator);
    expect(result.user.id).toBe('app-user-42');
    expect(result.session.userId).toBe('app-user-42');
  });

  it("a second passkey goes to the same account, excluding the first; the link's username is the app's name", async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const first = await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    const { start, result } = await addPasskey(h, new SoftwareAuthenticator(), ada);
    expect(start.options.excludeCredentials?.map((c) => c.id)).toEqual([first.credential.id]);
    await result();
    expect(await h.passgate.listUserCredentials('app-user-42')).toHaveLength(2);
  });

  it('adding a passkey needs a recent sign-in: the app sign-in time counts (401 reauthentication_required)', async () => {
    const h = appPassgate({ reauthenticationWindowSeconds: 300 });
    expect(await failure(h.passgate.startRegistration({ session: appUser(h, {}, 300_001) }))).toMatchObject({
      code: 'reauthentication_required',
      status: 401,
    });
    await expect(h.passgate.startRegistration({ session: appUser(h, {}, 299_000) })).resolves.toBeDefined();
  });

  it('an app user name taken by another account: 409 username_taken, nothing linked', async () => {
    const h = appPassgate({ signUp: true });
    await signUp(h, new SoftwareAuthenticator(), 'ada@example.com');
    expect(await failure(h.passgate.startRegistration({ session: appUser(h) }))).toMatchObject({
      code: 'username_taken',
    });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toBeNull();
  });

  it('the passkey goes only to the user who asked for the options: another user or a signed-out verify is 401', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const grace = appUser(h, { userId: 'app-user-43', name: 'grace@example.com' });
    for (const finishAs of [grace, null]) {
      const attempt = await addPasskey(h, new SoftwareAuthenticator(), ada, { finishAs });
      expect(await failure(attempt.result())).toMatchObject({ code: 'unauthenticated' });
    }
    expect(await h.stores.accounts.findByUserId('app-user-42')).toBeNull();
    expect(await h.stores.accounts.findByUserId('app-user-43')).toBeNull();
  });

  it('a passkey made for an account deleted and linked again meanwhile is refused (400 ceremony_expired)', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    const pending = await addPasskey(h, new SoftwareAuthenticator(), ada);
    await h.passgate.deletePasskeyAccount(ada.userId);
    await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    // The pending passkey's user handle is the deleted account's: it could never sign in.
    expect(await failure(pending.result())).toMatchObject({ code: 'ceremony_expired' });
    expect(await h.stores.credentials.listByUserHandle(pending.start.options.user.id)).toEqual([]);
    expect(await h.passgate.listUserCredentials(ada.userId)).toHaveLength(1);
  });

  it('of two racing first passkeys for one user, one links and the other is refused (400 ceremony_expired)', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const one = await addPasskey(h, new SoftwareAuthenticator(), ada);
    const two = await addPasskey(h, new SoftwareAuthenticator(), ada);
    await one.result();
    expect(await failure(two.result())).toMatchObject({ code: 'ceremony_expired' });
    const account = await h.stores.accounts.findByUserId('app-user-42');
    expect(account?.userHandle).toBe(one.start.options.user.id);
    expect(await h.passgate.listUserCredentials('app-user-42')).toHaveLength(1);
  });
});

describe('conditional create', () => {
  it('only a conditional ceremony accepts a response without user presence', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const modal = await addPasskey(h, new SoftwareAuthenticator(), ada, { up: false });
    expect(await failure(modal.result())).toMatchObject({ code: 'verification_failed' });
    const explicit = await addPasskey(h, new SoftwareAuthenticator(), ada, {
      up: false,
      mediation: 'required',
    });
    expect(await failure(explicit.result())).toMatchObject({ code: 'verification_failed' });
    const conditional = await addPasskey(h, new SoftwareAuthenticator(), ada, {
      up: false,
      mediation: 'conditional',
    });
    const done = await conditional.result();
    expect(done.user.id).toBe('app-user-42');
    expect(h.added).toEqual([expect.objectContaining({ how: 'conditional_create', userId: 'app-user-42' })]);
  });

  it('a conditional create with user presence is fine too', async () => {
    const h = appPassgate();
    const attempt = await addPasskey(h, new SoftwareAuthenticator(), appUser(h), {
      mediation: 'conditional',
    });
    await expect(attempt.result()).resolves.toMatchObject({ signedUp: false });
  });

  it('signed out, a conditional create is 401 unauthenticated even with sign-up on', async () => {
    const h = appPassgate({ signUp: true });
    expect(
      await failure(
        h.passgate.startRegistration({ session: null, username: 'bob', mediation: 'conditional' }),
      ),
    ).toMatchObject({ code: 'unauthenticated' });
  });
});

describe('sessions end with their passkey', () => {
  it('a Passgate session ends when its passkey is revoked, or the account deleted', async () => {
    const h = appPassgate({ signUp: true });
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(h, authenticator, 'alice');
    const second = await signIn(h, authenticator);
    expect(await h.passgate.resolveSignIn(second.session, null)).toEqual({
      signIn: second.session,
      ended: false,
    });
    await h.passgate.revokeCredential(alice.user.id, alice.credential.id);
    expect(await h.passgate.resolveSignIn(second.session, null)).toEqual({ signIn: null, ended: true });
  });

  it('a session whose account was deleted ends, and so does an app sign-in that names the passkey', async () => {
    const h = appPassgate();
    const authenticator = new SoftwareAuthenticator();
    await (await addPasskey(h, authenticator, appUser(h))).result();
    const passkeySignIn = await signIn(h, authenticator);
    const jwtUser = appUser(h, { credentialId: passkeySignIn.credential.id });
    const passwordUser = appUser(h);
    expect((await h.passgate.resolveSignIn(passkeySignIn.session, null)).ended).toBe(false);
    expect((await h.passgate.resolveSignIn(null, jwtUser)).ended).toBe(false);
    expect(await h.passgate.deletePasskeyAccount('app-user-42')).toBe(true);
    expect(await h.passgate.resolveSignIn(passkeySignIn.session, null)).toEqual({
      signIn: null,
      ended: true,
    });
    expect(await h.passgate.resolveSignIn(null, jwtUser)).toEqual({ signIn: null, ended: true });
    // A password sign-in was not made with a passkey: it stands.
    expect(await h.passgate.resolveSignIn(null, passwordUser)).toEqual({
      signIn: passwordUser,
      ended: false,
    });
    // The same app session after a passkey sign-in (both sources, same user): ends with the passkey.
    expect(await h.passgate.resolveSignIn(passkeySignIn.session, passwordUser)).toEqual({
      signIn: null,
      ended: true,
    });
  });

  it("both sources for different users: the application's user counts, the older Passgate session does not", async () => {
    const h = appPassgate();
    const authenticator = new SoftwareAuthenticator();
    await (await addPasskey(h, authenticator, appUser(h))).result();
    const ada = await signIn(h, authenticator);
    const grace = appUser(h, { userId: 'app-user-43', name: 'grace@example.com' });
    const resolved = await h.passgate.resolveSignIn(ada.session, grace);
    expect(resolved.signIn).toMatchObject({
      source: 'application',
      userId: 'app-user-43',
      credentialId: null,
    });
  });

  it('an app sign-in and the Passgate session of the same user merge: the passkey and the later time', async () => {
    const h = appPassgate();
    const authenticator = new SoftwareAuthenticator();
    await (await addPasskey(h, authenticator, appUser(h))).result();
    const ada = await signIn(h, authenticator);
    const resolved = await h.passgate.resolveSignIn(ada.session, appUser(h, {}, 60_000));
    expect(resolved.signIn).toMatchObject({
      source: 'application',
      userId: 'app-user-42',
      credentialId: ada.credential.id,
      authenticatedAt: ada.session.authenticatedAt,
      userVerified: true,
    });
  });
});

describe('a sign-in is tied to its passkey, not to the passkey id', () => {
  it('a Passgate session ends when its deleted passkey id is registered again by another account', async () => {
    const h = makePassgate();
    const alice = new SoftwareAuthenticator();
    const up = await signUp(h, alice, 'alice');
    const stolen = (await signIn(h, alice)).session;
    await h.passgate.revokeCredential(up.user.id, up.credential.id);
    // Credential ids are chosen by authenticators: anyone may present the same id for a new passkey.
    await signUp(h, new SoftwareAuthenticator(), 'mallory', {
      ctx: { credentialId: bytesOf(up.credential.id) },
    });
    expect((await h.stores.credentials.findById(up.credential.id))?.userHandle).not.toBe(stolen.userHandle);
    expect(await h.passgate.resolveSignIn(stolen, null)).toEqual({ signIn: null, ended: true });
  });

  it('an app sign-in naming a passkey ends when that id is registered again by another account', async () => {
    const h = appPassgate({ signUp: true });
    const ada = new SoftwareAuthenticator();
    const added = await (await addPasskey(h, ada, appUser(h))).result();
    const jwtUser = appUser(h, { credentialId: added.credential.id });
    expect((await h.passgate.resolveSignIn(null, jwtUser)).ended).toBe(false);
    await h.passgate.revokeCredential('app-user-42', added.credential.id);
    await signUp(h, new SoftwareAuthenticator(), 'mallory', {
      ctx: { credentialId: bytesOf(added.credential.id) },
    });
    expect(await h.passgate.resolveSignIn(null, jwtUser)).toEqual({ signIn: null, ended: true });
  });

  it("the session's user verification counts only for the passkey the app's sign-in names", async () => {
    const h = appPassgate();
    const phone = new SoftwareAuthenticator();
    const key = new SoftwareAuthenticator();
    await (await addPasskey(h, phone, appUser(h))).result();
    const second = await (await addPasskey(h, key, appUser(h))).result();
    const verified = await signIn(h, phone);
    expect(verified.session.userVerified).toBe(true);
    // The app's session says it was made with the other passkey: the phone's UV is not its.
    const other = await h.passgate.resolveSignIn(
      verified.session,
      appUser(h, { credentialId: second.credential.id }),
    );
    expect(other.signIn).toMatchObject({ credentialId: second.credential.id, userVerified: false });
    const same = await h.passgate.resolveSignIn(
      verified.session,
      appUser(h, { credentialId: verified.credential.id }),
    );
    expect(same.signIn).toMatchObject({ credentialId: verified.credential.id, userVerified: true });
  });

  it("a merged sign-in takes the application's time when the user signed in to it again since", async () => {
    const h = appPassgate();
    const authenticator = new SoftwareAuthenticator();
    await (await addPasskey(h, authenticator, appUser(h))).result();
    const ada = await signIn(h, authenticator);
    h.clock.now += 60_000;
    const resolved = await h.passgate.resolveSignIn(ada.session, appUser(h));
    expect(resolved.signIn).toMatchObject({ authenticatedAt: h.clock.now });
    expect(h.clock.now).toBeGreaterThan(ada.session.authenticatedAt);
  });
});

describe('server-side operations on users', () => {
  it('list, revoke one, revoke all and delete the passkey account, each with events', async () => {
    const h = appPassgate({ authenticatorNames: { '70617373-6761-7465-2d74-657374000001': 'Test Key' } });
    const added = async () => {
      h.clock.now += 1000; // distinct creation times: the listing order is by time
      return (await addPasskey(h, new SoftwareAuthenticator(), appUser(h))).result();
    };
    const first = await added();
    const second = await added();
    const third = await added();
    expect(h.added).toEqual(
      [first, second, third].map((r) =>
        expect.objectContaining({
          userId: 'app-user-42',
          credentialId: r.credential.id,
          authenticatorName: 'Test Key',
          how: 'signed_in',
          at: new Date(r.credential.createdAt),
        }),
      ),
    );
    expect((await h.passgate.listUserCredentials('app-user-42')).map((c) => c.id)).toEqual(
      [first, second, third].map((r) => r.credential.id),
    );
    expect(await h.passgate.listUserCredentials('nobody')).toEqual([]);

    await h.passgate.revokeCredential('app-user-42', first.credential.id);
    expect(h.removed).toEqual([
      expect.objectContaining({
        userId: 'app-user-42',
        credentialId: first.credential.id,
        authenticatorName: 'Test Key',
        how: 'application',
      }),
    ]);
    // Someone else's passkey, or one already gone: not_found, nothing removed.
    expect(await failure(h.passgate.revokeCredential('app-user-42', first.credential.id))).toMatchObject({
      code: 'not_found',
    });
    expect(await failure(h.passgate.revokeCredential('nobody', second.credential.id))).toMatchObject({
      code: 'not_found',
    });
    expect(await h.passgate.listUserCredentials('app-user-42')).toHaveLength(2);

    expect(await h.passgate.revokeAllCredentials('app-user-42')).toEqual([
      second.credential.id,
      third.credential.id,
    ]);
    expect(h.removed).toHaveLength(3);
    expect(await h.passgate.listUserCredentials('app-user-42')).toEqual([]);
    // The link stays after revoking all: the next passkey keeps the same user handle.
    const handle = (await h.stores.accounts.findByUserId('app-user-42'))?.userHandle;
    const again = await addPasskey(h, new SoftwareAuthenticator(), appUser(h));
    expect(again.start.options.user.id).toBe(handle);
    const fourth = await again.result();

    expect(await h.passgate.deletePasskeyAccount('app-user-42')).toBe(true);
    expect(h.removed.at(-1)).toMatchObject({ credentialId: fourth.credential.id, how: 'account_deleted' });
    expect(await h.stores.accounts.findByUserId('app-user-42')).toBeNull();
    expect(await h.passgate.deletePasskeyAccount('app-user-42')).toBe(false);
    // A later first passkey links the user to a new handle.
    const relinked = await addPasskey(h, new SoftwareAuthenticator(), appUser(h));
    expect(relinked.start.options.user.id).not.toBe(handle);
  });

  it('the user deleting a passkey over the contract emits credential_removed with how: user', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    const first = await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    await (await addPasskey(h, new SoftwareAuthenticator(), ada)).result();
    await h.passgate.deleteCredential(ada, first.credential.id);
    expect(h.removed).toEqual([expect.objectContaining({ credentialId: first.credential.id, how: 'user' })]);
    expect(eventsNamed(h, 'credential_deleted')).toHaveLength(1);
  });

  it('an app user may list (empty, no signal), and rename or delete nothing, before their first passkey', async () => {
    const h = appPassgate();
    const ada = appUser(h);
    expect(await h.passgate.listCredentials(ada)).toEqual({ credentials: [], signal: null });
    expect(await failure(h.passgate.renameCredential(ada, 'AAAA', 'x'))).toMatchObject({ code: 'not_found' });
    expect(await failure(h.passgate.deleteCredential(ada, 'AAAA'))).toMatchObject({ code: 'not_found' });
    expect(await h.passgate.describeSession(ada)).toEqual({
      user: { id: 'app-user-42', name: 'ada@example.com', displayName: 'Ada Lovelace' },
      credentialId: null,
      authenticatedAt: new Date(h.clock.now).toISOString(),
      userVerified: false,
    });
  });
});

describe('a bad identify', () => {
  function recordingLogger() {
    const lines: string[] = [];
    const logger: PassgateLogger = {
      debug() {},
      info() {},
      warn(message) {
        lines.push(message);
      },
      error(message) {
        lines.push(message);
      },
    };
    return { lines, logger };
  }

  const garbage: [string, unknown][] = [
    ['a string', 'ada'],
    ['an array', [1]],
    ['no userId', { name: 'ada', authenticatedAt: Date.now() }],
    ['a numeric userId', { userId: 42, name: 'ada', authenticatedAt: Date.now() }],
    // No store could keep these exactly: PostgreSQL refuses U+0000, UTF-8 stores turn a lone
    // surrogate into U+FFFD (so 'x\uD800' and 'x\uDC00' would find one account).
    ['a U+0000 in the userId', { userId: 'a\u0000b', name: 'ada', authenticatedAt: Date.now() }],
    ['a lone surrogate in the userId', { userId: 'x\uD800', name: 'ada', authenticatedAt: Date.now() }],
    ['a userId of 256 characters', { userId: 'u'.repeat(256), name: 'ada', authenticatedAt: Date.now() }],
    ['an empty name', { userId: 'a', name: '', authenticatedAt: Date.now() }],
    ['a control character in the name', { userId: 'a', name: 'a\u0000b', authenticatedAt: Date.now() }],
    ['a name of 65 characters', { userId: 'a', name: 'x'.repeat(65), authenticatedAt: Date.now() }],
    ['no authenticatedAt', { userId: 'a', name: 'ada' }],
    ['an invalid Date', { userId: 'a', name: 'ada', authenticatedAt: new Date('nope') }],
    ['a string time', { userId: 'a', name: 'ada', authenticatedAt: '2024-01-01' }],
    ['a bad credentialId', { userId: 'a', name: 'ada', authenticatedAt: Date.now(), credentialId: '+/=' }],
  ];

  for (const [what, value] of garbage) {
    it(`${what}: 500 internal_error with a log line naming the option`, async () => {
      const { lines, logger } = recordingLogger();
      const h = makePassgate({ logger });
      expect(await failure(identifyRequest(h.passgate, () => value))).toMatchObject({
        code: 'internal_error',
        status: 500,
      });
      expect(lines).toEqual([expect.stringContaining('`identify`')]);
    });
  }

  it('a throwing (or rejecting) identify: 500 internal_error, logged naming the option', async () => {
    for (const identify of [
      () => {
        throw new Error('db down');
      },
      () => Promise.reject(new Error('db down')),
    ]) {
      const { lines, logger } = recordingLogger();
      const h = makePassgate({ logger });
      expect(await failure(identifyRequest(h.passgate, identify))).toMatchObject({ code: 'internal_error' });
      expect(lines).toEqual([expect.stringContaining('`identify` option threw')]);
    }
  });

  it('null and undefined mean nobody; a valid user is normalised', async () => {
    const h = makePassgate();
    expect(await identifyRequest(h.passgate, () => null)).toBeNull();
    expect(await identifyRequest(h.passgate, async () => undefined)).toBeNull();
    expect(
      await identifyRequest(h.passgate, () => ({
        userId: 'u1',
        name: 'ada',
        authenticatedAt: 1_700_000_000_000,
      })),
    ).toEqual({
      source: 'application',
      userId: 'u1',
      name: 'ada',
      displayName: 'ada',
      authenticatedAt: 1_700_000_000_000,
      credentialId: null,
      userVerified: false,
    });
  });
});

describe("the application's user renamed after their first passkey (it owns the names)", () => {
  it('new passkeys, the signal and register/verify carry the current names; the stored copy follows', async () => {
    const h = appPassgate();
    const first = new SoftwareAuthenticator();
    const linked = await (await addPasskey(h, first, appUser(h))).result();
    const renamed = appUser(h, { name: 'ada@lovelace.example', displayName: 'Ada King' });

    const { start, result } = await addPasskey(h, new SoftwareAuthenticator(), renamed);
    expect(start.options.user).toMatchObject({ name: 'ada@lovelace.example', displayName: 'Ada King' });
    const added = await result();
    expect(added.user).toEqual({ id: 'app-user-42', name: 'ada@lovelace.example', displayName: 'Ada King' });
    // signalCurrentUserDetails then shows the current names for every passkey of the user.
    const { signal } = await h.passgate.listCredentials(renamed);
    expect(signal).toMatchObject({ name: 'ada@lovelace.example', displayName: 'Ada King' });
    expect((await h.passgate.describeSession(renamed)).user.name).toBe('ada@lovelace.example');

    // Adding the passkey renamed the stored copy, which username-first sign-in looks up.
    const account = await h.stores.accounts.findByUserId('app-user-42');
    expect(account).toMatchObject({ username: 'ada@lovelace.example', displayName: 'Ada King' });
    const byNewName = await h.passgate.startAuthentication({ username: 'ada@lovelace.example' });
    expect(byNewName.options.allowCredentials?.map((c) => c.id).sort()).toEqual(
      [linked.credential.id, added.credential.id].sort(),
    );
    expect(await h.stores.accounts.findByUsername('ada@example.com')).toBeNull();
  });

  it("another account's sign-in never lends its names: a Passgate session is named by its own account", async () => {
    const h = appPassgate({ signUp: true });
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const { signal } = await h.passgate.listCredentials(bob.session);
    expect(signal).toMatchObject({ name: 'bob', displayName: 'bob' });
  });
});
