import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { SimulatedApplication } from './application.js';
import { type ContractClient, ORIGIN } from './client.js';
import { signIn, signUp } from './flows.js';
import type { Harness } from './harness.js';
import { expectErrorBody } from './shapes.js';

/** Adds a passkey for whoever `client` is signed in as; `up: false` sends no user-presence flag. */
async function addPasskey(
  client: ContractClient,
  authenticator: SoftwareAuthenticator,
  o: { mediation?: string; up?: boolean } = {},
) {
  const started = await client.post('/register/options', o.mediation ? { mediation: o.mediation } : {});
  expect(started.status, started.text).toBe(200);
  const response = await authenticator.createCredential(started.body, {
    origin: ORIGIN,
    ...(o.up === false ? { flags: { up: false, uv: false } } : {}),
  });
  const verified = await client.post('/register/verify', response);
  return { started, verified, credentialId: response.id };
}

/** Contract 1.1: "signed in" includes the application's own signed-in user (`identify`). */
export function applicationSignInTests(h: Harness): void {
  it("the application's user is signed in: GET /session names them, no passkey yet", async () => {
    const client = h.client();
    const user = SimulatedApplication.newUser();
    const identified = h.application.signInAs(client, user, 1000);
    const session = await client.get('/session');
    expect(session.status, session.text).toBe(200);
    expect(session.body).toEqual({
      user: { id: user.userId, name: user.name, displayName: user.displayName },
      credentialId: null,
      authenticatedAt: new Date(identified.authenticatedAt).toISOString(),
      userVerified: false,
    });
    const listed = await client.get('/credentials');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ credentials: [], signal: null });
  });

  it('their first passkey links their user id to a new random user handle; User.id is the app id', async () => {
    const client = h.client();
    const user = SimulatedApplication.newUser();
    h.application.signInAs(client, user);
    const { started, verified } = await addPasskey(client, new SoftwareAuthenticator());
    const handle = Buffer.from(started.body.user.id, 'base64url');
    expect(handle.length).toBeGreaterThanOrEqual(16);
    expect(handle.length).toBeLessThanOrEqual(64);
    expect(handle.toString('utf8')).not.toContain(user.userId);
    expect(handle.toString('utf8')).not.toContain(user.name);
    expect(started.body.user.name).toBe(user.name);
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.user).toEqual({ id: user.userId, name: user.name, displayName: user.displayName });
    const listed = await client.get('/credentials');
    expect(listed.body.credentials).toHaveLength(1);
    expect(listed.body.signal.userId).toBe(started.body.user.id);
  });

  it('sign-in with that passkey answers the app user id and reaches the app hook', async () => {
    const client = h.client();
    const user = SimulatedApplication.newUser();
    h.application.signInAs(client, user);
    const authenticator = new SoftwareAuthenticator();
    const { credentialId } = await addPasskey(client, authenticator);
    const fresh = h.client(); // another browser, signed out of the app
    const answer = await signIn(fresh, authenticator);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.user.id).toBe(user.userId);
    expect(h.application.passkeySignIns.at(-1)).toMatchObject({
      user: { id: user.userId, name: user.name },
      session: { userId: user.userId, credentialId },
    });
    expect((await fresh.get('/session')).body.user.id).toBe(user.userId);
  });

  it('adding a passkey needs a recent sign-in: an app sign-in older than the window is 401 reauthentication_required', async () => {
    const client = h.client();
    h.application.signInAs(client, SimulatedApplication.newUser(), 301_000);
    expectErrorBody(await client.post('/register/options', {}), 401, 'reauthentication_required');
    h.application.signInAs(client, SimulatedApplication.newUser(), 1000);
    expect((await client.post('/register/options', {})).status).toBe(200);
  });

  it('conditional create: only a ceremony started with mediation "conditional" accepts no user presence', async () => {
    const client = h.client();
    h.application.signInAs(client, SimulatedApplication.newUser());
    const modal = await addPasskey(client, new SoftwareAuthenticator(), { up: false });
    expectErrorBody(modal.verified, 400, 'verification_failed');
    const required = await addPasskey(client, new SoftwareAuthenticator(), {
      up: false,
      mediation: 'required',
    });
    expectErrorBody(required.verified, 400, 'verification_failed');
    const conditional = await addPasskey(client, new SoftwareAuthenticator(), {
      up: false,
      mediation: 'conditional',
    });
    expect(conditional.verified.status, conditional.verified.text).toBe(200);
    expect((await client.get('/credentials')).body.credentials).toHaveLength(1);
  });

  it('conditional create signed out is 401 whatever the body; an unknown mediation is 400', async () => {
    const client = h.client();
    expectErrorBody(
      await client.post('/register/options', { mediation: 'conditional' }),
      401,
      'unauthenticated',
    );
    expectErrorBody(
      await client.post('/register/options', { mediation: 'conditional', username: 5, hints: 'x' }),
      401,
      'unauthenticated',
    );
    const bad = await client.post('/register/options', { username: 'someone', mediation: 'silent' });
    expectErrorBody(bad, 400, 'invalid_request', ['field']);
    expect(bad.body.error.field).toBe('mediation');
    h.application.signInAs(client, SimulatedApplication.newUser());
    expectErrorBody(
      await client.post('/register/options', { mediation: 'optional' }),
      400,
      'invalid_request',
      ['field'],
    );
  });

  it('a session made with a passkey ends when that passkey is deleted (a lost phone is signed out)', async () => {
    const laptop = h.client();
    const user = SimulatedApplication.newUser();
    h.application.signInAs(laptop, user);
    const laptopKey = new SoftwareAuthenticator();
    const phoneKey = new SoftwareAuthenticator();
    await addPasskey(laptop, laptopKey);
    const { credentialId: phoneCredential } = await addPasskey(laptop, phoneKey);
    const phone = h.client();
    expect((await signIn(phone, phoneKey)).status).toBe(200);
    expect((await phone.get('/session')).status).toBe(200);

    const deleted = await laptop.delete(`/credentials/${phoneCredential}`);
    expect(deleted.status, deleted.text).toBe(200);
    expectErrorBody(await phone.get('/session'), 401, 'unauthenticated');
    expectErrorBody(await phone.get('/credentials'), 401, 'unauthenticated');
    // Signed out now: a conditional create (signed in only) is refused.
    expectErrorBody(
      await phone.post('/register/options', { mediation: 'conditional' }),
      401,
      'unauthenticated',
    );
    // The laptop's password sign-in was not made with that passkey.
    expect((await laptop.get('/session')).status).toBe(200);
  });

  it('the same holds for Passgate accounts: a passkey session ends with its passkey or account', async () => {
    const first = await signUp(h.client());
    const second = new SoftwareAuthenticator();
    const { credentialId } = await addPasskey(first.client, second);
    const other = h.client();
    expect((await signIn(other, second)).status).toBe(200);
    expect((await first.client.delete(`/credentials/${credentialId}`)).status).toBe(200);
    expectErrorBody(await other.get('/session'), 401, 'unauthenticated');
    // The application deletes the whole passkey account (server side): the sign-up session ends too.
    expect(await h.passgate.deletePasskeyAccount(first.userId)).toBe(true);
    expectErrorBody(await first.client.get('/session'), 401, 'unauthenticated');
  });

  it('revoking on the server ends the sessions made with the passkey', async () => {
    const client = h.client();
    const user = SimulatedApplication.newUser();
    h.application.signInAs(client, user);
    const authenticator = new SoftwareAuthenticator();
    const { credentialId } = await addPasskey(client, authenticator);
    const phone = h.client();
    expect((await signIn(phone, authenticator)).status).toBe(200);
    await h.passgate.revokeCredential(user.userId, credentialId);
    expectErrorBody(await phone.get('/session'), 401, 'unauthenticated');
  });

  it("a user's name change follows when they add a passkey; then a new user may take the old name", async () => {
    const ada = SimulatedApplication.newUser('ada');
    const adaClient = h.client();
    h.application.signInAs(adaClient, ada);
    const adaKey = new SoftwareAuthenticator();
    const adaPasskey = await addPasskey(adaClient, adaKey);
    expect(adaPasskey.verified.status, adaPasskey.verified.text).toBe(200);
    // Ada changes her email in the application, which gives her old one to Grace: until Passgate
    // learns of the change, the name is still Ada's and Grace's first passkey is refused.
    const renamed = { ...ada, name: `new-${ada.name}` };
    h.application.signInAs(adaClient, renamed);
    const grace = { ...SimulatedApplication.newUser('grace'), name: ada.name };
    const graceClient = h.client();
    h.application.signInAs(graceClient, grace);
    expectErrorBody(await graceClient.post('/register/options', {}), 409, 'username_taken');
    // Ada adds a passkey under her new email: the stored copy follows, and the old name is free.
    const another = await addPasskey(adaClient, new SoftwareAuthenticator());
    expect(another.verified.status, another.verified.text).toBe(200);
    const byNewName = await h.client().post('/login/options', { username: renamed.name });
    expect(byNewName.body.allowCredentials.map((c: { id: string }) => c.id).sort()).toEqual(
      [adaPasskey.credentialId, another.credentialId].sort(),
    );
    const gracePasskey = await addPasskey(graceClient, new SoftwareAuthenticator());
    expect(gracePasskey.started.status, gracePasskey.started.text).toBe(200);
    expect(gracePasskey.verified.status, gracePasskey.verified.text).toBe(200);
    expect(gracePasskey.verified.body.user).toEqual({
      id: grace.userId,
      name: ada.name,
      displayName: grace.displayName,
    });
    const byOldName = await h.client().post('/login/options', { username: ada.name });
    expect(byOldName.body.allowCredentials.map((c: { id: string }) => c.id)).toEqual([
      gracePasskey.credentialId,
    ]);
    const adaSignIn = await signIn(h.client(), adaKey);
    expect(adaSignIn.status, adaSignIn.text).toBe(200);
    expect(adaSignIn.body.user).toMatchObject({ id: ada.userId, name: renamed.name });
  });

  it('a name another account holds is never taken: a first passkey is 409, a further passkey is added and the name stays', async () => {
    const signedUp = await signUp(h.client());
    const client = h.client();
    h.application.signInAs(client, { ...SimulatedApplication.newUser(), name: signedUp.username });
    expectErrorBody(await client.post('/register/options', {}), 409, 'username_taken');
    // An app user with a passkey whose name in the application becomes the sign-up's: adding a
    // passkey still works, and username-first sign-in by the name still finds only the sign-up.
    const cleo = SimulatedApplication.newUser('cleo');
    const cleoClient = h.client();
    h.application.signInAs(cleoClient, cleo);
    const first = await addPasskey(cleoClient, new SoftwareAuthenticator());
    expect(first.verified.status, first.verified.text).toBe(200);
    h.application.signInAs(cleoClient, { ...cleo, name: signedUp.username });
    const second = await addPasskey(cleoClient, new SoftwareAuthenticator());
    expect(second.started.status, second.started.text).toBe(200);
    expect(second.verified.status, second.verified.text).toBe(200);
    const byName = await h.client().post('/login/options', { username: signedUp.username });
    expect(byName.body.allowCredentials.map((c: { id: string }) => c.id)).toEqual([signedUp.credentialId]);
    const byOldName = await h.client().post('/login/options', { username: cleo.name });
    expect(byOldName.body.allowCredentials.map((c: { id: string }) => c.id).sort()).toEqual(
      [first.credentialId, second.credentialId].sort(),
    );
  });

  it('an identify that throws or answers garbage: 500 internal_error on the passkey routes, never a passkey', async () => {
    for (const how of ['throws', 'garbage'] as const) {
      const client = h.client();
      h.application.breakIdentify(client, how);
      expectErrorBody(await client.get('/session'), 500, 'internal_error');
      expectErrorBody(await client.post('/register/options', {}), 500, 'internal_error');
      // The server is still up for everyone else.
      expectErrorBody(await h.client().get('/session'), 401, 'unauthenticated');
    }
  });
}
