import { randomBytes } from 'node:crypto';
import type { PasskeySession } from '@passgate/core';
import { SoftwareAuthenticator, TEST_AAGUID } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import {
  b64,
  eventsNamed,
  failure,
  makePassgate,
  RP_ID,
  registrationAttempt,
  signIn,
  signUp,
} from './helpers.js';

const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

async function twoPasskeys() {
  const h = makePassgate();
  const synced = new SoftwareAuthenticator({ aaguid: ICLOUD, backupEligible: true, backedUp: true });
  const key = new SoftwareAuthenticator({ transports: ['usb'] });
  const alice = await signUp(h, synced, 'alice', { displayName: 'Alice Liddell', nickname: 'iPhone' });
  h.clock.now += 1000;
  const added = await (await registrationAttempt(h, key, { session: alice.session })).finish();
  return { h, synced, key, alice, added };
}

describe('listCredentials', () => {
  it('lists the views and the signal', async () => {
    const { h, alice, added } = await twoPasskeys();
    const { credentials, signal } = await h.passgate.listCredentials(alice.session);
    expect(credentials).toEqual([
      {
        id: alice.credential.id,
        nickname: 'iPhone',
        createdAt: new Date(h.clock.now - 1000).toISOString(),
        lastUsedAt: null,
        deviceType: 'multiDevice',
        backedUp: true,
        transports: ['internal', 'hybrid'],
        aaguid: ICLOUD,
        authenticatorName: 'Apple Passwords',
      },
      {
        id: added.credential.id,
        nickname: null,
        createdAt: new Date(h.clock.now).toISOString(),
        lastUsedAt: null,
        deviceType: 'singleDevice',
        backedUp: false,
        transports: ['usb'],
        aaguid: TEST_AAGUID,
        authenticatorName: null,
      },
    ]);
    expect(signal).toEqual({
      rpId: RP_ID,
      userId: alice.session.userHandle,
      allAcceptedCredentialIds: [alice.credential.id, added.credential.id],
      name: 'alice',
      displayName: 'Alice Liddell',
    });
  });

  it('names authenticators from the configured extra names', async () => {
    const h = makePassgate({ authenticatorNames: { [TEST_AAGUID.toUpperCase()]: 'Test Key' } });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    expect(alice.credential.authenticatorName).toBe('Test Key');
  });

  it('shows lastUsedAt after a sign-in', async () => {
    const { h, synced, alice } = await twoPasskeys();
    h.clock.now += 5000;
    await signIn(h, synced);
    const { credentials } = await h.passgate.listCredentials(alice.session);
    expect(credentials[0]?.lastUsedAt).toBe(new Date(h.clock.now).toISOString());
    expect(credentials[1]?.lastUsedAt).toBeNull();
  });

  it('lists only the own account', async () => {
    const { h } = await twoPasskeys();
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const { credentials } = await h.passgate.listCredentials(bob.session);
    expect(credentials.map((c) => c.id)).toEqual([bob.credential.id]);
  });

  it('answers unauthenticated without a session', async () => {
    const h = makePassgate();
    expect(await failure(h.passgate.listCredentials(null))).toMatchObject({ code: 'unauthenticated' });
  });
});

describe('renameCredential', () => {
  it('renames an own credential, trimmed, and reports it', async () => {
    const { h, alice } = await twoPasskeys();
    const view = await h.passgate.renameCredential(alice.session, alice.credential.id, '  Phone 🎉 ');
    expect(view.nickname).toBe('Phone 🎉');
    expect((await h.stores.credentials.findById(alice.credential.id))?.nickname).toBe('Phone 🎉');
    expect(eventsNamed(h, 'credential_renamed')).toHaveLength(1);
  });

  it("answers not_found for another account's credential exactly as for a missing one", async () => {
    const { h, alice } = await twoPasskeys();
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const foreign = await failure(h.passgate.renameCredential(bob.session, alice.credential.id, 'mine now'));
    const missing = await failure(h.passgate.renameCredential(bob.session, b64(randomBytes(32)), 'mine now'));
    expect(foreign).toMatchObject({ code: 'not_found', status: 404 });
    expect(foreign.toJSON()).toEqual(missing.toJSON());
    expect((await h.stores.credentials.findById(alice.credential.id))?.nickname).toBe('iPhone');
  });
});

describe('deleteCredential', () => {
  it('deletes within the window and returns the signal of the remaining ids', async () => {
    const { h, alice, added } = await twoPasskeys();
    const result = await h.passgate.deleteCredential(alice.session, added.credential.id);
    expect(result).toEqual({
      deleted: true,
      signal: {
        rpId: RP_ID,
        userId: alice.session.userHandle,
        allAcceptedCredentialIds: [alice.credential.id],
        name: 'alice',
        displayName: 'Alice Liddell',
      },
    });
    expect(await h.stores.credentials.findById(added.credential.id)).toBeNull();
    expect(eventsNamed(h, 'credential_deleted')).toEqual([
      expect.objectContaining({ credentialId: added.credential.id }),
    ]);
  });

  it('requires reauthentication outside the sensitive-action window', async () => {
    const { h, alice, added } = await twoPasskeys();
    // twoPasskeys moved the clock 1 s; the window is 300 s from the sign-up.
    h.clock.now = alice.session.authenticatedAt + 300_001;
    expect(await failure(h.passgate.deleteCredential(alice.session, added.credential.id))).toMatchObject({
      code: 'reauthentication_required',
      status: 401,
    });
    expect(await h.stores.credentials.findById(added.credential.id)).not.toBeNull();
    h.clock.now = alice.session.authenticatedAt + 300_000;
    await expect(h.passgate.deleteCredential(alice.session, added.credential.id)).resolves.toMatchObject({
      deleted: true,
    });
  });

  it('honours a configured window', async () => {
    const h = makePassgate({ reauthenticationWindowSeconds: 10 });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    await (await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session })).finish();
    h.clock.now += 10_001;
    expect(await failure(h.passgate.deleteCredential(alice.session, alice.credential.id))).toMatchObject({
      code: 'reauthentication_required',
    });
    expect(h.passgate.isRecentAuthentication(alice.session)).toBe(false);
    expect(h.passgate.isRecentAuthentication(alice.session, { maxAgeSeconds: 20 })).toBe(true);
  });

  it('refuses to delete the last credential', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    expect(await failure(h.passgate.deleteCredential(alice.session, alice.credential.id))).toMatchObject({
      code: 'last_credential',
      status: 409,
    });
    expect(await h.stores.credentials.findById(alice.credential.id)).not.toBeNull();
  });

  it('deletes the last credential when the application allows it', async () => {
    const h = makePassgate({ allowDeletingLastCredential: true });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    const result = await h.passgate.deleteCredential(alice.session, alice.credential.id);
    expect(result.signal.allAcceptedCredentialIds).toEqual([]);
  });

  it("answers not_found for another account's credential and for a missing one", async () => {
    const { h, alice } = await twoPasskeys();
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    await (await registrationAttempt(h, new SoftwareAuthenticator(), { session: bob.session })).finish();
    const foreign = await failure(h.passgate.deleteCredential(bob.session, alice.credential.id));
    const missing = await failure(h.passgate.deleteCredential(bob.session, b64(randomBytes(32))));
    expect(foreign).toMatchObject({ code: 'not_found' });
    expect(foreign.toJSON()).toEqual(missing.toJSON());
    expect(await h.stores.credentials.findById(alice.credential.id)).not.toBeNull();
  });

  it('a deleted credential can no longer sign in', async () => {
    const { h, key, alice, added } = await twoPasskeys();
    await h.passgate.deleteCredential(alice.session, added.credential.id);
    const start = await h.passgate.startAuthentication();
    const assertion = await key.getAssertion(start.options, {
      origin: 'https://app.example.com',
      credentialId: added.credential.id,
    });
    expect(
      await failure(
        h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: assertion as never }),
      ),
    ).toMatchObject({ code: 'unknown_credential', credentialId: added.credential.id });
  });
});

describe('sessions', () => {
  it('describes the session', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator({ userVerification: false }), 'alice');
    expect(await h.passgate.describeSession(alice.session)).toEqual({
      user: alice.user,
      credentialId: alice.credential.id,
      authenticatedAt: new Date(h.clock.now).toISOString(),
      userVerified: false,
    });
    expect(await h.passgate.getAccount(alice.session)).toMatchObject({ username: 'alice' });
  });

  it('answers unauthenticated for no session, a deleted account, or a mismatched user handle', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    expect(await failure(h.passgate.describeSession(null))).toMatchObject({ code: 'unauthenticated' });
    const gone: PasskeySession = { ...alice.session, userId: 'deleted-user' };
    const forged: PasskeySession = { ...alice.session, userHandle: b64(randomBytes(32)) };
    for (const session of [gone, forged]) {
      expect(await failure(h.passgate.describeSession(session))).toMatchObject({ code: 'unauthenticated' });
      expect(await failure(h.passgate.listCredentials(session))).toMatchObject({ code: 'unauthenticated' });
      expect(await failure(h.passgate.renameCredential(session, alice.credential.id, 'x'))).toMatchObject({
        code: 'unauthenticated',
      });
      expect(await failure(h.passgate.deleteCredential(session, alice.credential.id))).toMatchObject({
        code: 'unauthenticated',
      });
    }
    // The session of an account that exists in another deployment only.
    const elsewhere = makePassgate();
    expect(await failure(elsewhere.passgate.describeSession(alice.session))).toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('isRecentAuthentication checks age and, when asked, user verification', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator({ userVerification: false }), 'alice');
    expect(h.passgate.isRecentAuthentication(alice.session)).toBe(true);
    expect(h.passgate.isRecentAuthentication(alice.session, { userVerified: true })).toBe(false);
    expect(h.passgate.isRecentAuthentication(null)).toBe(false);
    h.clock.now += 301_000;
    expect(h.passgate.isRecentAuthentication(alice.session)).toBe(false);
  });
});

describe('reauthenticateToAddPasskey', () => {
  it('refuses to start adding a passkey outside the window when on, and allows it inside', async () => {
    const h = makePassgate({ reauthenticateToAddPasskey: true, reauthenticationWindowSeconds: 60 });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    h.clock.now = alice.session.authenticatedAt + 60_001;
    expect(await failure(h.passgate.startRegistration({ session: alice.session }))).toMatchObject({
      code: 'reauthentication_required',
      status: 401,
    });
    h.clock.now = alice.session.authenticatedAt + 60_000;
    await expect(h.passgate.startRegistration({ session: alice.session })).resolves.toMatchObject({
      options: { user: { name: 'alice' } },
    });
  });

  it('is on by default (contract 1.1): an old sign-in may not add a passkey', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    h.clock.now = alice.session.authenticatedAt + 300_001;
    expect(await failure(h.passgate.startRegistration({ session: alice.session }))).toMatchObject({
      code: 'reauthentication_required',
    });
  });

  it('can be turned off: an old sign-in may then add a passkey', async () => {
    const h = makePassgate({ reauthenticateToAddPasskey: false, reauthenticationWindowSeconds: 60 });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    h.clock.now = alice.session.authenticatedAt + 3_600_000;
    await expect(h.passgate.startRegistration({ session: alice.session })).resolves.toMatchObject({
      options: { user: { name: 'alice' } },
    });
  });
});
