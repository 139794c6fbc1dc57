import { expect, it } from 'vitest';
import { signIn, signUp } from './flows.js';
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
    expectErrorBody(await client.post('/login/verify', {}), 429, 'rate_limited');
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
  it('failed verifications per account: 429 rate_limited with Retry-After, even for a valid assertion', async () => {
    const { authenticator } = await signUp(h.client());
    for (let i = 0; i < 2; i++) {
      const bad = await signIn(h.client(), authenticator, { overrides: { signature: 'corrupt' } });
      expectErrorBody(bad, 400, 'verification_failed');
    }
    const limited = await signIn(h.client(), authenticator);
    expectErrorBody(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not affected.
    const other = await signUp(h.client());
    expect((await signIn(h.client(), other.authenticator)).status).toBe(200);
  });
}
