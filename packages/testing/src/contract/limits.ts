import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { CEREMONY_COOKIE, ORIGIN } from './client.js';
import { signIn, signUp, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';
import { expectErrorBody } from './shapes.js';

/** Group config: 4 options/verify requests per IP per minute. */
export function rateLimitTests(h: Harness): void {
  it('the per-IP bucket: 429 rate_limited with Retry-After, after 403 and 415, before 400', async () => {
    const client = h.client();
    for (let i = 0; i < 4; i++) expect((await client.post('/login/options', {})).status).toBe(200);
    const limited = await client.post('/login/options', {});
    expectErrorBody(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Shared by options and verify endpoints of both ceremonies.
    expectErrorBody(await client.post('/register/options', { username: 'someone' }), 429, 'rate_limited');
    // A request the bucket refuses changes nothing: the ceremony cookie the options above set is
    // neither cleared nor replaced (contract 1.1).
    expect(client.jar.get(CEREMONY_COOKIE)).toBeTruthy();
    const verifyLimited = await client.post('/login/verify', {});
    expectErrorBody(verifyLimited, 429, 'rate_limited');
    expect(verifyLimited.setCookies.filter((c) => c.startsWith(`${CEREMONY_COOKIE}=`))).toEqual([]);
    // 429 comes before 400.
    expectErrorBody(
      await client.post('/login/options', undefined, { body: '{', contentType: 'application/json' }),
      429,
      'rate_limited',
    );
    // ...and after 403 and 415.
    expectErrorBody(await client.post('/login/options', {}, { origin: 'null' }), 403, 'forbidden_origin');
    expectErrorBody(
      await client.post('/login/options', undefined, { body: '{}', contentType: 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    // Endpoints outside the bucket still answer.
    expectErrorBody(await client.get('/session'), 401, 'unauthenticated');
    expect((await client.post('/logout')).status).toBe(204);
  });
}

/** Group config: 2 failed verifications per account. */
export function accountFailureTests(h: Harness): void {
  it('failed verifications per account: the 3rd failure gets 429 with Retry-After; a valid assertion still signs in', async () => {
    const { authenticator } = await signUp(h.client());
    for (let i = 0; i < 2; i++) {
      const bad = await signIn(h.client(), authenticator, { overrides: { signature: 'corrupt' } });
      expectErrorBody(bad, 400, 'verification_failed');
    }
    const limited = await signIn(h.client(), authenticator, { overrides: { signature: 'corrupt' } });
    expectErrorBody(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Nobody can lock the owner out by sending bad assertions (contract 1.1).
    expect((await signIn(h.client(), authenticator)).status).toBe(200);
    // Another account is not affected.
    const other = await signUp(h.client());
    const otherBad = await signIn(h.client(), other.authenticator, { overrides: { signature: 'corrupt' } });
    expectErrorBody(otherBad, 400, 'verification_failed');
  });

  it('the bucket is consumed atomically: of 30 parallel bad verifies, 2 get 400 and 28 get 429', async () => {
    const { authenticator, username } = await signUp(h.client());
    const prepared = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const client = h.client();
        const started = await client.post('/login/options', { username });
        const options = started.body as PublicKeyCredentialRequestOptionsJSON;
        const assertion = await authenticator.getAssertion(options, { origin: ORIGIN, signature: 'corrupt' });
        return { client, assertion };
      }),
    );
    const answers = await Promise.all(
      prepared.map(({ client, assertion }) => client.post('/login/verify', assertion)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(2).fill(400), ...Array(28).fill(429)]);
    expect((await signIn(h.client(), authenticator, { username })).status).toBe(200);
  });

  it('username-first with an unknown username: exactly what a known one gets (400, 400, then 429)', async () => {
    const stranger = new SoftwareAuthenticator();
    const orphan = await stranger.createCredential(
      (await h.client().post('/register/options', { username: uniqueUsername() })).body,
      { origin: ORIGIN },
    );
    const { username } = await signUp(h.client());
    const outcomes = async (name: string) => {
      const statuses: string[] = [];
      for (let i = 0; i < 3; i++) {
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
        const answer = await client.post('/login/verify', assertion);
        statuses.push(`${answer.status} ${answer.body?.error?.code}`);
      }
      return statuses;
    };
    const expected = ['400 verification_failed', '400 verification_failed', '429 rate_limited'];
    expect(await outcomes(username)).toEqual(expected);
    expect(await outcomes(uniqueUsername('ghost'))).toEqual(expected);
  });

  it('a 429 from the per-account bucket comes after the verify consumed its ceremony: the cookie is cleared and the ceremony is gone', async () => {
    const { authenticator } = await signUp(h.client());
    for (let i = 0; i < 2; i++)
      await signIn(h.client(), authenticator, { overrides: { signature: 'corrupt' } });
    const client = h.client();
    const started = await client.post('/login/options', {});
    const options = started.body as PublicKeyCredentialRequestOptionsJSON;
    const bad = await authenticator.getAssertion(options, { origin: ORIGIN, signature: 'corrupt' });
    const cookie = `${CEREMONY_COOKIE}=${client.jar.get(CEREMONY_COOKIE)}`;
    const limited = await client.post('/login/verify', bad);
    expectErrorBody(limited, 429, 'rate_limited');
    expect(limited.setCookies.some((c) => c.startsWith(`${CEREMONY_COOKIE}=;`))).toBe(true);
    const good = await authenticator.getAssertion(options, { origin: ORIGIN });
    expectErrorBody(await client.post('/login/verify', good, { cookie }), 400, 'ceremony_expired');
  });
}
