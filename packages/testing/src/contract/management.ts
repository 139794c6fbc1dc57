import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { ORIGIN, RP_ID } from './client.js';
import { type SignedUp, signIn, signUp } from './flows.js';
import type { Harness } from './harness.js';
import { expectCredential, expectErrorBody, expectSignal } from './shapes.js';

/** Signs up and adds a second passkey (a second authenticator: one refuses ids in excludeCredentials). */
export async function withTwoPasskeys(
  h: Harness,
): Promise<SignedUp & { secondId: string; second: SoftwareAuthenticator }> {
  const signedUp = await signUp(h.client());
  const second = new SoftwareAuthenticator();
  const started = await signedUp.client.post('/register/options', {});
  const response = await second.createCredential(started.body, { origin: ORIGIN });
  const verified = await signedUp.client.post('/register/verify', response);
  expect(verified.status, verified.text).toBe(200);
  return { ...signedUp, second, secondId: response.id };
}

export function sessionTests(h: Harness): void {
  it('protected endpoints without a session: 401 unauthenticated', async () => {
    const client = h.client();
    const id = randomBytes(16).toString('base64url');
    expectErrorBody(await client.get('/session'), 401, 'unauthenticated');
    expectErrorBody(await client.get('/credentials'), 401, 'unauthenticated');
    expectErrorBody(await client.patch(`/credentials/${id}`, { nickname: 'x' }), 401, 'unauthenticated');
    // The body is checked before the session (400 before 401 in the contract's order).
    const badRename = await client.patch(`/credentials/${id}`, { nickname: '' });
    expectErrorBody(badRename, 400, 'invalid_request', ['field']);
    expect(badRename.body.error.field).toBe('nickname');
    expectErrorBody(await client.delete(`/credentials/${id}`), 401, 'unauthenticated');
    // A made-up session cookie is no session either.
    expectErrorBody(
      await client.get('/session', { cookie: 'connect.sid=s%3Anope.nope' }),
      401,
      'unauthenticated',
    );
  });

  it('logout: 204 without a body; the old session cookie no longer signs anyone in', async () => {
    const { client } = await signUp(h.client());
    const before = client.cookieHeader();
    expect((await client.get('/session')).status).toBe(200);
    const answer = await client.post('/logout');
    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expectErrorBody(await client.get('/session'), 401, 'unauthenticated');
    expectErrorBody(await client.get('/session', { cookie: before }), 401, 'unauthenticated');
    expectErrorBody(await client.get('/credentials', { cookie: before }), 401, 'unauthenticated');
  });

  it('logout without a session is still 204', async () => {
    const answer = await h.client().post('/logout');
    expect(answer.status).toBe(204);
  });
}

export function managementTests(h: Harness): void {
  it('GET /credentials: the account passkeys and the signal', async () => {
    const { client, secondId, credentialId, options, username } = await withTwoPasskeys(h);
    const answer = await client.get('/credentials');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answer.body).sort()).toEqual(['credentials', 'signal']);
    expect(answer.body.credentials).toHaveLength(2);
    for (const credential of answer.body.credentials) expectCredential(credential);
    expectSignal(answer.body.signal);
    expect(answer.body.signal).toMatchObject({
      rpId: RP_ID,
      userId: options.user.id,
      name: username,
      displayName: username,
    });
    expect([...answer.body.signal.allAcceptedCredentialIds].sort()).toEqual([credentialId, secondId].sort());
  });

  it('PATCH /credentials/:id renames (200 Credential); bad nicknames are 400 naming `nickname`', async () => {
    const { client, credentialId } = await signUp(h.client());
    const answer = await client.patch(`/credentials/${credentialId}`, { nickname: 'Work laptop' });
    expect(answer.status, answer.text).toBe(200);
    expectCredential(answer.body);
    expect(answer.body).toMatchObject({ id: credentialId, nickname: 'Work laptop' });
    const list = await client.get('/credentials');
    expect(list.body.credentials[0].nickname).toBe('Work laptop');
    for (const nickname of ['', 'n'.repeat(65), 3]) {
      const bad = await client.patch(`/credentials/${credentialId}`, { nickname });
      expectErrorBody(bad, 400, 'invalid_request', ['field']);
      expect(bad.body.error.field).toBe('nickname');
    }
    const missing = await client.patch(`/credentials/${credentialId}`, {});
    expect(missing.body.error.field).toBe('nickname');
  });

  it('IDOR: another account passkey is 404 not_found, exactly like one that does not exist', async () => {
    const victim = await signUp(h.client());
    const attacker = await signUp(h.client());
    const missingId = randomBytes(32).toString('base64url');
    const foreignPatch = await attacker.client.patch(`/credentials/${victim.credentialId}`, {
      nickname: 'mine',
    });
    const missingPatch = await attacker.client.patch(`/credentials/${missingId}`, { nickname: 'mine' });
    expectErrorBody(foreignPatch, 404, 'not_found');
    expect(foreignPatch.text).toBe(missingPatch.text);
    const foreignDelete = await attacker.client.delete(`/credentials/${victim.credentialId}`);
    const missingDelete = await attacker.client.delete(`/credentials/${missingId}`);
    expectErrorBody(foreignDelete, 404, 'not_found');
    expect(foreignDelete.text).toBe(missingDelete.text);
    // A malformed id is not found either.
    expectErrorBody(await attacker.client.delete('/credentials/not%2Bbase64'), 404, 'not_found');
    // The attacker sees only their own passkeys; the victim's is untouched.
    const attackerList = await attacker.client.get('/credentials');
    expect(attackerList.body.credentials.map((c: { id: string }) => c.id)).toEqual([attacker.credentialId]);
    const victimList = await victim.client.get('/credentials');
    expect(victimList.body.credentials).toEqual([
      expect.objectContaining({ id: victim.credentialId, nickname: null }),
    ]);
  });

  it('DELETE /credentials/:id: 200 { deleted, signal }; the only passkey is 409 last_credential', async () => {
    const { client, credentialId, secondId } = await withTwoPasskeys(h);
    const answer = await client.delete(`/credentials/${secondId}`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answer.body).sort()).toEqual(['deleted', 'signal']);
    expect(answer.body.deleted).toBe(true);
    expectSignal(answer.body.signal);
    expect(answer.body.signal.allAcceptedCredentialIds).toEqual([credentialId]);
    expectErrorBody(await client.delete(`/credentials/${secondId}`), 404, 'not_found');
    expectErrorBody(await client.delete(`/credentials/${credentialId}`), 409, 'last_credential');
    const list = await client.get('/credentials');
    expect(list.body.credentials.map((c: { id: string }) => c.id)).toEqual([credentialId]);
  });

  it('DELETE after the sensitive-action window: 401 reauthentication_required; a fresh sign-in allows it', async () => {
    const { client, secondId, authenticator } = await withTwoPasskeys(h);
    h.clock.advance(301_000); // the group's window is 300 s
    expectErrorBody(await client.delete(`/credentials/${secondId}`), 401, 'reauthentication_required');
    // Other endpoints still work: the session itself did not expire.
    expect((await client.get('/credentials')).body.credentials).toHaveLength(2);
    const again = await signIn(client, authenticator);
    expect(again.status, again.text).toBe(200);
    const answer = await client.delete(`/credentials/${secondId}`);
    expect(answer.status, answer.text).toBe(200);
  });
}

export function outageTests(h: Harness): void {
  it('an unreachable store: 503 store_unavailable, failing closed; service resumes after', async () => {
    const { client, authenticator } = await signUp(h.client());
    const pending = h.client();
    const started = await pending.post('/login/options', {});
    h.setStoreOutage(true);
    try {
      expectErrorBody(await h.client().post('/login/options', {}), 503, 'store_unavailable');
      expectErrorBody(await client.get('/credentials'), 503, 'store_unavailable');
      const assertion = await authenticator.getAssertion(started.body, { origin: ORIGIN });
      const failed = await pending.post('/login/verify', assertion);
      expectErrorBody(failed, 503, 'store_unavailable');
      expect(failed.text).not.toContain('ECONNREFUSED');
    } finally {
      h.setStoreOutage(false);
    }
    expect((await client.get('/credentials')).status).toBe(200);
    expect((await signIn(h.client(), authenticator)).status).toBe(200);
  });

  it('a signed-in request during an outage: 403, 415, 413 and 400 answer before the sign-in is looked up (then 503)', async () => {
    const { client, credentialId } = await signUp(h.client());
    const path = `/credentials/${credentialId}`;
    h.setStoreOutage(true);
    try {
      // The contract's order: the request's shape is judged before anything touches a store, so a
      // signed-in browser sees the same 4xx an anonymous one would while the store is down.
      const foreign = { origin: 'https://evil.example.test' };
      expectErrorBody(await client.delete(path, foreign), 403, 'forbidden_origin');
      expectErrorBody(await client.post('/logout', undefined, foreign), 403, 'forbidden_origin');
      expectErrorBody(
        await client.patch(path, undefined, {
          body: 'nickname=x',
          contentType: 'application/x-www-form-urlencoded',
        }),
        415,
        'unsupported_media_type',
      );
      const big = JSON.stringify({ nickname: 'x'.repeat(128 * 1024) });
      expectErrorBody(
        await client.patch(path, undefined, { body: big, contentType: 'application/json' }),
        413,
        'payload_too_large',
      );
      expectErrorBody(
        await client.patch(path, undefined, { body: '{"nickname":', contentType: 'application/json' }),
        400,
        'invalid_request',
        ['field'],
      );
      expectErrorBody(await client.patch(path, { nickname: 'ok' }), 503, 'store_unavailable');
    } finally {
      h.setStoreOutage(false);
    }
    expect((await client.get('/credentials')).body.credentials[0].nickname).toBeNull();
  });

  it('a store error that is not an outage (a missing table): 500 internal_error, never 503; nothing leaks', async () => {
    const { client, authenticator } = await signUp(h.client());
    h.setStoreError(true);
    try {
      for (const answer of [await h.client().post('/login/options', {}), await client.get('/credentials')]) {
        expectErrorBody(answer, 500, 'internal_error');
        expect(answer.text).not.toContain('relation');
      }
    } finally {
      h.setStoreError(false);
    }
    expect((await signIn(h.client(), authenticator)).status).toBe(200);
  });
}
