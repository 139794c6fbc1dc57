import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator, TEST_AAGUID } from '../authenticator/index.js';
import { ORIGIN, RP_ID } from './client.js';
import { signUp, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';
import { base64urlBytes, expectCredential, expectErrorBody, expectIso, expectUser } from './shapes.js';

export function registrationTests(h: Harness): void {
  it('register/options (sign-up) answers creation options of the contract', async () => {
    const client = h.client();
    const username = uniqueUsername('opts');
    const answer = await client.post('/register/options', { username, hints: ['security-key', 'hybrid'] });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const options = answer.body as PublicKeyCredentialCreationOptionsJSON;
    expect(options.rp.id).toBe(RP_ID);
    const handleBytes = base64urlBytes(options.user.id);
    expect(handleBytes).toBeGreaterThanOrEqual(16);
    expect(handleBytes).toBeLessThanOrEqual(64);
    expect(options.user.id).not.toBe(username);
    expect(Buffer.from(options.user.id, 'base64url').toString('utf8')).not.toContain(username);
    expect(options.user.name).toBe(username);
    expect(options.user.displayName).toBe(username); // displayName defaults to the username
    expect(options.authenticatorSelection?.residentKey).toBe('required');
    expect(options.authenticatorSelection?.userVerification).toBe('preferred');
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual(expect.arrayContaining([-8, -7, -257]));
    expect(options.extensions?.credProps).toBe(true);
    expect(options.excludeCredentials ?? []).toEqual([]);
    expect(options.hints).toEqual(['security-key', 'hybrid']);
    base64urlBytes(options.challenge);
  });

  it('sign-up: 200 with exactly { verified, user, credential }, and the user is signed in', async () => {
    const client = h.client();
    const username = uniqueUsername('signup');
    const started = await client.post('/register/options', { username, displayName: 'Ada L.' });
    expect(started.status).toBe(200);
    const authenticator = new SoftwareAuthenticator();
    const response = await authenticator.createCredential(started.body, { origin: ORIGIN });
    const answer = await client.post('/register/verify', response);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answer.body).sort()).toEqual(['credential', 'user', 'verified']);
    expect(answer.body.verified).toBe(true);
    expectUser(answer.body.user, { name: username, displayName: 'Ada L.' });
    expect(answer.body.user.id).not.toBe(started.body.user.id); // the app's id, not the user handle
    expectCredential(answer.body.credential);
    expect(answer.body.credential).toMatchObject({
      id: response.id,
      nickname: null,
      lastUsedAt: null,
      deviceType: 'singleDevice',
      backedUp: false,
      transports: ['internal', 'hybrid'],
      aaguid: TEST_AAGUID,
    });

    const session = await client.get('/session');
    expect(session.status, session.text).toBe(200);
    expect(Object.keys(session.body).sort()).toEqual([
      'authenticatedAt',
      'credentialId',
      'user',
      'userVerified',
    ]);
    expect(session.body.user).toEqual(answer.body.user);
    expect(session.body.credentialId).toBe(response.id);
    expectIso(session.body.authenticatedAt);
    expect(session.body.userVerified).toBe(true);
  });

  it('sign-up with a nickname and a synced passkey: multiDevice, backedUp', async () => {
    const client = h.client();
    const authenticator = new SoftwareAuthenticator({ backupEligible: true, backedUp: true });
    const { answer } = await signUp(client, { authenticator, nickname: 'Phone' });
    expect(answer.body.credential).toMatchObject({
      nickname: 'Phone',
      deviceType: 'multiDevice',
      backedUp: true,
    });
  });

  it('sign-up without a username: 400 invalid_request naming `username`', async () => {
    const answer = await h.client().post('/register/options', {});
    expectErrorBody(answer, 400, 'invalid_request', ['field']);
    expect(answer.body.error.field).toBe('username');
    const empty = await h.client().post('/register/options');
    expectErrorBody(empty, 400, 'invalid_request', ['field']);
    expect(empty.body.error.field).toBe('username');
  });

  it('usernames are 1..64 code points (not UTF-16 units); wrong types name the field', async () => {
    const emoji = `${'😀'.repeat(60)}${uniqueUsername('').slice(-4)}`;
    expect([...emoji].length).toBe(64);
    const ok = await h.client().post('/register/options', { username: emoji });
    expect(ok.status, ok.text).toBe(200);
    const long = await h.client().post('/register/options', { username: 'x'.repeat(65) });
    expectErrorBody(long, 400, 'invalid_request', ['field']);
    expect(long.body.error.field).toBe('username');
    const typed = await h.client().post('/register/options', { username: 42 });
    expectErrorBody(typed, 400, 'invalid_request', ['field']);
    expect(typed.body.error.field).toBe('username');
    const hint = await h.client().post('/register/options', { username: uniqueUsername(), hints: ['usb'] });
    expectErrorBody(hint, 400, 'invalid_request', ['field']);
    expect(hint.body.error.field).toBe('hints[0]');
  });

  it('an existing username at options: 409 username_taken', async () => {
    const { username } = await signUp(h.client());
    const answer = await h.client().post('/register/options', { username });
    expectErrorBody(answer, 409, 'username_taken');
  });

  it('options reserve nothing; of two racing sign-ups for one name the second verify gets 409 username_taken', async () => {
    const username = uniqueUsername('race');
    const first = h.client();
    const second = h.client();
    const a = await first.post('/register/options', { username });
    const b = await second.post('/register/options', { username });
    expect([a.status, b.status]).toEqual([200, 200]);
    const ra = await new SoftwareAuthenticator().createCredential(a.body, { origin: ORIGIN });
    const rb = await new SoftwareAuthenticator().createCredential(b.body, { origin: ORIGIN });
    const va = await first.post('/register/verify', ra);
    expect(va.status, va.text).toBe(200);
    const vb = await second.post('/register/verify', rb);
    expectErrorBody(vb, 409, 'username_taken');
    // The loser is not signed in.
    expectErrorBody(await second.get('/session'), 401, 'unauthenticated');
  });

  it('a credential id registered to any account: 409 credential_exists, and the sign-up writes nothing', async () => {
    const { credentialId } = await signUp(h.client());
    const client = h.client();
    const username = uniqueUsername('dup');
    const started = await client.post('/register/options', { username });
    const response = await new SoftwareAuthenticator().createCredential(started.body, {
      origin: ORIGIN,
      credentialId: Buffer.from(credentialId, 'base64url'),
    });
    expectErrorBody(await client.post('/register/verify', response), 409, 'credential_exists');
    // All or nothing: no account was created for the username.
    const again = await h.client().post('/register/options', { username });
    expect(again.status, again.text).toBe(200);
  });

  it('a response for another origin: 400 verification_failed', async () => {
    const client = h.client();
    const started = await client.post('/register/options', { username: uniqueUsername() });
    const response = await new SoftwareAuthenticator().createCredential(started.body, {
      origin: 'https://evil.example.test',
    });
    expectErrorBody(await client.post('/register/verify', response), 400, 'verification_failed');
  });

  it('signed in: adding a second passkey (excludeCredentials lists the first with transports)', async () => {
    const { client, credentialId, answer: first, username } = await signUp(h.client());
    // Signed in, username and displayName are ignored, not even validated.
    const started = await client.post('/register/options', { username: 12, displayName: false });
    expect(started.status, started.text).toBe(200);
    const options = started.body as PublicKeyCredentialCreationOptionsJSON;
    expect(options.user.name).toBe(username);
    expect(options.excludeCredentials).toEqual([
      expect.objectContaining({ id: credentialId, type: 'public-key', transports: ['internal', 'hybrid'] }),
    ]);
    const second = new SoftwareAuthenticator({ transports: ['usb'] });
    const response = await second.createCredential(options, { origin: ORIGIN });
    const verified = await client.post('/register/verify', { ...response, nickname: 'Key' });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.user).toEqual(first.body.user);
    expect(verified.body.credential).toMatchObject({ id: response.id, nickname: 'Key', transports: ['usb'] });
    const list = await client.get('/credentials');
    expect(list.body.credentials.map((c: { id: string }) => c.id).sort()).toEqual(
      [credentialId, response.id].sort(),
    );
    // Still signed in with the first passkey's sign-in.
    const session = await client.get('/session');
    expect(session.body.credentialId).toBe(credentialId);
  });
}

export function signUpDisabledTests(h: Harness): void {
  it('sign-up disabled: register/options without a session is 401 unauthenticated', async () => {
    const answer = await h.client().post('/register/options', { username: uniqueUsername() });
    expectErrorBody(answer, 401, 'unauthenticated');
    // Core checks "sign-up disabled" before "username required" (both are the endpoint's own checks).
    expectErrorBody(await h.client().post('/register/options', {}), 401, 'unauthenticated');
  });

  it('sign-up disabled: sign-in options still work (decoys for any username)', async () => {
    const answer = await h.client().post('/login/options', { username: uniqueUsername() });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.allowCredentials.length).toBeGreaterThan(0);
  });
}
