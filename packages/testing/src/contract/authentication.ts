import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { ORIGIN, RP_ID } from './client.js';
import { sessionCookies, signIn, signUp, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';
import { base64urlBytes, expectCredential, expectErrorBody, expectIso, expectUser } from './shapes.js';

export function authenticationTests(h: Harness): void {
  it('usernameless sign-in: empty allowCredentials, 200 { verified, user, credential } with lastUsedAt set', async () => {
    const { authenticator, answer: signedUp, credentialId } = await signUp(h.client());
    const client = h.client();
    const started = await client.post('/login/options', {});
    expect(started.status, started.text).toBe(200);
    expect(started.headers.get('cache-control')).toBe('no-store');
    const options = started.body as PublicKeyCredentialRequestOptionsJSON;
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('preferred');
    expect(options.rpId).toBe(RP_ID);
    const assertion = await authenticator.getAssertion(options, { origin: ORIGIN });
    const answer = await client.post('/login/verify', assertion);
    expect(answer.status, answer.text).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['credential', 'user', 'verified']);
    expect(answer.body.verified).toBe(true);
    expectUser(answer.body.user);
    expect(answer.body.user).toEqual(signedUp.body.user);
    expectCredential(answer.body.credential);
    expect(answer.body.credential.id).toBe(credentialId);
    expectIso(answer.body.credential.lastUsedAt);
    const session = await client.get('/session');
    expect(session.status).toBe(200);
    expect(session.body.credentialId).toBe(credentialId);
  });

  it('username-first sign-in: allowCredentials lists the account passkeys with their transports', async () => {
    const { authenticator, username, credentialId } = await signUp(h.client());
    const client = h.client();
    const started = await client.post('/login/options', { username, hints: ['client-device'] });
    expect(started.status, started.text).toBe(200);
    expect(started.body.allowCredentials).toEqual([
      expect.objectContaining({ id: credentialId, type: 'public-key', transports: ['internal', 'hybrid'] }),
    ]);
    expect(started.body.hints).toEqual(['client-device']);
    const assertion = await authenticator.getAssertion(started.body, { origin: ORIGIN });
    const answer = await client.post('/login/verify', assertion);
    expect(answer.status, answer.text).toBe(200);
  });

  it('unknown usernames get stable decoys of the same shape; verifying one answers what a bad assertion for a real account does (400)', async () => {
    const { username } = await signUp(h.client());
    const known = await h.client().post('/login/options', { username });
    const unknownName = uniqueUsername('ghost');
    const first = await h.client().post('/login/options', { username: unknownName });
    const second = await h.client().post('/login/options', { username: unknownName });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(Object.keys(first.body).sort()).toEqual(Object.keys(known.body).sort());
    const ids = (a: { body: PublicKeyCredentialRequestOptionsJSON }) =>
      a.body.allowCredentials?.map((c) => c.id);
    expect(ids(first)).toEqual(ids(second));
    expect(first.body.allowCredentials.length).toBeGreaterThan(0);
    for (const decoy of first.body.allowCredentials) {
      expect(Object.keys(decoy).sort()).toEqual(Object.keys(known.body.allowCredentials[0]).sort());
      const bytes = base64urlBytes(decoy.id);
      expect(bytes).toBeGreaterThanOrEqual(16);
      expect(bytes).toBeLessThanOrEqual(64);
    }
    // An authenticator answering with a listed id under its own key, for the unknown username and
    // for the real one: the same answer (contract 1.1), so no authenticator is needed to tell them apart.
    const stranger = new SoftwareAuthenticator();
    const orphan = await stranger.createCredential(
      (await h.client().post('/register/options', { username: uniqueUsername() })).body,
      { origin: ORIGIN },
    );
    const answers = [];
    for (const name of [unknownName, username]) {
      const client = h.client();
      const started = await client.post('/login/options', { username: name });
      const listedId = started.body.allowCredentials[0].id as string;
      const assertion = await stranger.getAssertion(started.body, {
        origin: ORIGIN,
        credentialId: orphan.id,
        id: listedId,
        rawId: listedId,
        userHandle: null,
      });
      answers.push(await client.post('/login/verify', assertion));
    }
    for (const answer of answers) expectErrorBody(answer, 400, 'verification_failed');
    expect(answers[0]?.body).toEqual(answers[1]?.body);
  });

  it('usernameless sign-in with a passkey no account has: 401 unknown_credential with credentialId', async () => {
    const stranger = new SoftwareAuthenticator();
    // Created by the authenticator but never verified, so never stored (e.g. deleted on the server).
    const orphan = await stranger.createCredential(
      (await h.client().post('/register/options', { username: uniqueUsername() })).body,
      { origin: ORIGIN },
    );
    const answer = await signIn(h.client(), stranger, { overrides: { credentialId: orphan.id } });
    expectErrorBody(answer, 401, 'unknown_credential', ['credentialId']);
    expect(answer.body.error.credentialId).toBe(orphan.id);
  });

  it('a counter that does not increase: 401 credential_cloned, and the credential is not updated', async () => {
    const { authenticator } = await signUp(h.client());
    const ok = await signIn(h.client(), authenticator);
    expect(ok.status, ok.text).toBe(200);
    const lastUsedAt = ok.body.credential.lastUsedAt;
    const cloned = await signIn(h.client(), authenticator, { overrides: { counter: 1 } });
    expectErrorBody(cloned, 401, 'credential_cloned');
    const again = await signIn(h.client(), authenticator, { overrides: { counter: 1 } });
    expectErrorBody(again, 401, 'credential_cloned');
    // A zero counter after a non-zero one is a counter that did not increase, too.
    const zero = await signIn(h.client(), authenticator, { overrides: { counter: 0 } });
    expectErrorBody(zero, 401, 'credential_cloned');
    const later = await signIn(h.client(), authenticator, { overrides: { counter: 5 } });
    expect(later.status, later.text).toBe(200);
    expect(Date.parse(later.body.credential.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(lastUsedAt));
  });

  it('an authenticator that always sends counter 0 (synced passkeys) is fine', async () => {
    const authenticator = new SoftwareAuthenticator({
      counter: 'zero',
      backupEligible: true,
      backedUp: true,
    });
    await signUp(h.client(), { authenticator });
    for (let i = 0; i < 2; i++) {
      const answer = await signIn(h.client(), authenticator);
      expect(answer.status, answer.text).toBe(200);
    }
  });

  it('a bad signature: 400 verification_failed, and the counter did not move', async () => {
    const { authenticator } = await signUp(h.client());
    const bad = await signIn(h.client(), authenticator, { overrides: { signature: 'corrupt', counter: 7 } });
    expectErrorBody(bad, 400, 'verification_failed');
    // Had the failed attempt stored counter 7, this would be credential_cloned.
    const good = await signIn(h.client(), authenticator, { overrides: { counter: 2 } });
    expect(good.status, good.text).toBe(200);
  });

  it('usernameless sign-in without userHandle: 400 verification_failed', async () => {
    const { authenticator } = await signUp(h.client());
    const answer = await signIn(h.client(), authenticator, { overrides: { userHandle: null } });
    expectErrorBody(answer, 400, 'verification_failed');
  });

  it('session fixation: the session cookie changes on every sign-in, and the old one signs no one in', async () => {
    const { authenticator, client } = await signUp(h.client());
    const afterSignUp = sessionCookies(client);
    expect(afterSignUp).not.toBe('');
    const answer = await signIn(client, authenticator);
    expect(answer.status, answer.text).toBe(200);
    const afterSignIn = sessionCookies(client);
    expect(afterSignIn).not.toBe('');
    expect(afterSignIn).not.toBe(afterSignUp);
    expect((await client.get('/session')).status).toBe(200);
    expectErrorBody(await client.get('/session', { cookie: afterSignUp }), 401, 'unauthenticated');
  });
}
