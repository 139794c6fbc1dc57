import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { CEREMONY_COOKIE, findSetCookie, ORIGIN } from './client.js';
import { prepareSignIn, signUp, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';
import { expectErrorBody } from './shapes.js';

export function ceremonyTests(h: Harness): void {
  it('options set the ceremony cookie: HttpOnly, SameSite=Strict, Path=/passkeys, not Secure on http', async () => {
    const answer = await h.client().post('/login/options', {});
    const cookie = findSetCookie(answer, CEREMONY_COOKIE);
    expect(cookie, answer.setCookies.join('\n')).toBeDefined();
    expect(cookie?.value.length).toBeGreaterThanOrEqual(16);
    expect(cookie?.attributes.has('httponly')).toBe(true);
    expect(cookie?.attributes.get('samesite')?.toLowerCase()).toBe('strict');
    expect(cookie?.attributes.get('path')).toBe(h.prefix);
    expect(cookie?.attributes.has('secure')).toBe(false);
    // Lives as long as the challenge (300 s by default).
    expect(Number(cookie?.attributes.get('max-age'))).toBe(300);
    const other = await h.client().post('/login/options', {});
    expect(findSetCookie(other, CEREMONY_COOKIE)?.value).not.toBe(cookie?.value);
  });

  it('verify consumes the ceremony and clears the cookie; a replay is 400 ceremony_expired', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    const cookie = client.cookieHeader();
    const first = await client.post('/login/verify', assertion);
    expect(first.status, first.text).toBe(200);
    const cleared = findSetCookie(first, CEREMONY_COOKIE);
    expect(cleared?.expired).toBe(true);
    expect(cleared?.attributes.get('path')).toBe(h.prefix);
    const replay = await client.post('/login/verify', assertion, { cookie });
    expectErrorBody(replay, 400, 'ceremony_expired');
  });

  it('verify without the ceremony cookie: 400 ceremony_expired', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    expectErrorBody(await client.post('/login/verify', assertion, { cookie: '' }), 400, 'ceremony_expired');
    const bogus = `${CEREMONY_COOKIE}=${'A'.repeat(43)}`;
    expectErrorBody(
      await client.post('/login/verify', assertion, { cookie: bogus }),
      400,
      'ceremony_expired',
    );
  });

  it('a ceremony of the other kind: 400 ceremony_expired (both ways)', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    // Replace the login ceremony by a registration one.
    const reg = await client.post('/register/options', { username: uniqueUsername() });
    expect(reg.status).toBe(200);
    expectErrorBody(await client.post('/login/verify', assertion), 400, 'ceremony_expired');

    const other = h.client();
    const started = await other.post('/register/options', { username: uniqueUsername() });
    const response = await new SoftwareAuthenticator().createCredential(started.body, { origin: ORIGIN });
    await other.post('/login/options', {}); // replaces the cookie with a login ceremony
    expectErrorBody(await other.post('/register/verify', response), 400, 'ceremony_expired');
  });

  it('an expired ceremony (past its time to live): 400 ceremony_expired', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    h.clock.advance(301_000);
    expectErrorBody(await client.post('/login/verify', assertion), 400, 'ceremony_expired');
  });

  it('a failed verification consumes the ceremony too', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const started = await client.post('/login/options', {});
    const cookie = client.cookieHeader();
    const bad = await authenticator.getAssertion(started.body, { origin: ORIGIN, signature: 'corrupt' });
    expectErrorBody(await client.post('/login/verify', bad, { cookie }), 400, 'verification_failed');
    const good = await authenticator.getAssertion(started.body, { origin: ORIGIN });
    expectErrorBody(await client.post('/login/verify', good, { cookie }), 400, 'ceremony_expired');
  });

  it('20 concurrent verifies of one ceremony: exactly one 200, the others 400 ceremony_expired', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    const cookie = client.cookieHeader();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => client.post('/login/verify', assertion, { cookie })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200))
      expectErrorBody(answer, 400, 'ceremony_expired');
  });

  it('a request rejected before the endpoint (403, 415, 413, 400) consumes nothing: the ceremony still works', async () => {
    const { authenticator } = await signUp(h.client());
    const client = h.client();
    const { assertion } = await prepareSignIn(client, authenticator);
    const text = JSON.stringify(assertion);
    expectErrorBody(
      await client.post('/login/verify', undefined, { body: text, contentType: 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    expectErrorBody(
      await client.post('/login/verify', assertion, { origin: 'https://evil.example.test' }),
      403,
      'forbidden_origin',
    );
    expectErrorBody(
      await client.post('/login/verify', undefined, {
        body: `${text.slice(0, -1)},"pad":"${'x'.repeat(70_000)}"}`,
        contentType: 'application/json',
      }),
      413,
      'payload_too_large',
    );
    expectErrorBody(
      await client.post('/login/verify', undefined, {
        body: text.slice(0, -2),
        contentType: 'application/json',
      }),
      400,
      'invalid_request',
      ['field'],
    );
    const answer = await client.post('/login/verify', assertion);
    expect(answer.status, answer.text).toBe(200);
  });
}
