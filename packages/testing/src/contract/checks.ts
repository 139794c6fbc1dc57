import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { ORIGIN } from './client.js';
import { signUp, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';
import { withTwoPasskeys } from './management.js';
import { expectErrorBody } from './shapes.js';

const ONE_MB = 1024 * 1024;

/**
 * Sends `chunks` × 16 KiB to the contract's `path` with `Transfer-Encoding: chunked` (no
 * Content-Length, as streaming clients do); resolves the status and the error code.
 */
async function sendChunked(
  h: Harness,
  method: string,
  path: string,
  chunks: number,
  cookie = '',
): Promise<{ status: number; code: string | undefined }> {
  const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= chunks) controller.close();
      else {
        sent += 1;
        controller.enqueue(chunk);
      }
    },
  });
  const response = await fetch(new URL(`${h.prefix}${path}`, h.url), {
    method,
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...(cookie ? { cookie } : {}) },
    body,
    duplex: 'half',
  } as RequestInit);
  const answer = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: answer.error?.code };
}

export function checkTests(h: Harness): void {
  it('CSRF: a foreign Origin on any state-changing request is 403 forbidden_origin', async () => {
    const { client, credentialId } = await signUp(h.client());
    const foreign = { origin: 'https://evil.example.test' };
    const username = uniqueUsername();
    expectErrorBody(await client.post('/register/options', { username }, foreign), 403, 'forbidden_origin');
    expectErrorBody(await client.post('/register/verify', {}, foreign), 403, 'forbidden_origin');
    expectErrorBody(await client.post('/login/options', {}, foreign), 403, 'forbidden_origin');
    expectErrorBody(await client.post('/login/verify', {}, foreign), 403, 'forbidden_origin');
    expectErrorBody(
      await client.patch(`/credentials/${credentialId}`, { nickname: 'pwned' }, foreign),
      403,
      'forbidden_origin',
    );
    expectErrorBody(await client.delete(`/credentials/${credentialId}`, foreign), 403, 'forbidden_origin');
    expectErrorBody(await client.post('/logout', undefined, foreign), 403, 'forbidden_origin');
    // Nothing happened: still signed in, passkey not renamed.
    const list = await client.get('/credentials');
    expect(list.body.credentials[0].nickname).toBeNull();
  });

  it('CSRF: `Origin: null` is 403; no Origin at all (a non-browser client) is allowed', async () => {
    expectErrorBody(await h.client().post('/login/options', {}, { origin: 'null' }), 403, 'forbidden_origin');
    const answer = await h.client().post('/login/options', {}, { origin: false });
    expect(answer.status, answer.text).toBe(200);
  });

  it('a body that is not JSON is 415 unsupported_media_type, even a huge one (415 before 413)', async () => {
    const client = h.client();
    const form = await client.post('/login/options', undefined, {
      body: 'a=b',
      contentType: 'application/x-www-form-urlencoded',
    });
    expectErrorBody(form, 415, 'unsupported_media_type');
    const text = await client.post('/login/options', undefined, { body: '{}', contentType: 'text/plain' });
    expectErrorBody(text, 415, 'unsupported_media_type');
    const none = await client.post('/login/options', undefined, { body: '{}' }); // fetch sends text/plain
    expectErrorBody(none, 415, 'unsupported_media_type');
    const latin1 = await client.post('/login/options', undefined, {
      body: '{}',
      contentType: 'application/json; charset=iso-8859-1',
    });
    expectErrorBody(latin1, 415, 'unsupported_media_type');
    const huge = await client.post('/login/options', undefined, {
      body: 'x'.repeat(ONE_MB),
      contentType: 'text/plain',
    });
    expectErrorBody(huge, 415, 'unsupported_media_type');
    // 403 beats 415.
    const foreign = await client.post('/login/options', undefined, {
      body: 'x'.repeat(ONE_MB),
      contentType: 'text/plain',
      origin: 'https://evil.example.test',
    });
    expectErrorBody(foreign, 403, 'forbidden_origin');
    const ok = await client.post('/login/options', undefined, {
      body: '{}',
      contentType: 'application/json; charset=utf-8',
    });
    expect(ok.status, ok.text).toBe(200);
  });

  it('a 1 MB JSON body is 413 payload_too_large, and the server still answers afterwards', async () => {
    const client = h.client();
    const big = JSON.stringify({ username: 'x'.repeat(ONE_MB) });
    expectErrorBody(
      await client.post('/register/options', undefined, { body: big, contentType: 'application/json' }),
      413,
      'payload_too_large',
    );
    expectErrorBody(
      await client.post('/login/verify', undefined, { body: big, contentType: 'application/json' }),
      413,
      'payload_too_large',
    );
    const after = await client.post('/login/options', {});
    expect(after.status, after.text).toBe(200);
    expectErrorBody(await client.get('/session'), 401, 'unauthenticated');
  });

  it('a chunked body (no Content-Length) over 64 KiB is 413 too', async () => {
    const answer = await sendChunked(h, 'POST', '/login/options', 80);
    expect(answer).toEqual({ status: 413, code: 'payload_too_large' });
    expect((await h.client().post('/login/options', {})).status).toBe(200);
  });

  it('DELETE and POST /logout use no body, but one that comes is held to the same rules: 413, 400, and nothing happens', async () => {
    const { client, secondId } = await withTwoPasskeys(h);
    const path = `/credentials/${secondId}`;
    const invalid = { body: '{"reason":', contentType: 'application/json' };
    for (const [method, to] of [
      ['DELETE', path],
      ['POST', '/logout'],
    ] as const) {
      // Chunked, so no Content-Length announces the size: only reading the body finds it too large.
      expect(await sendChunked(h, method, to, 5, client.cookieHeader())).toEqual({
        status: 413,
        code: 'payload_too_large',
      });
      const broken = await client.request(method, `${h.prefix}${to}`, invalid);
      expectErrorBody(broken, 400, 'invalid_request', ['field']);
      expect(broken.body.error.field).toBe('$');
    }
    // Nothing happened: still signed in, both passkeys there.
    const list = await client.get('/credentials');
    expect(list.status, list.text).toBe(200);
    expect(list.body.credentials).toHaveLength(2);
    // A small JSON body is fine on both.
    expect((await client.delete(path, { json: {} })).status).toBe(200);
    expect((await client.post('/logout', {})).status).toBe(204);
    expectErrorBody(await client.get('/session'), 401, 'unauthenticated');
  });

  it('a credential id with bad percent-encoding is an id like any unknown one: 403, 415, 400 and 401 first, then 404', async () => {
    const { client, credentialId } = await signUp(h.client());
    const signedOut = h.client();
    const foreign = { origin: 'https://evil.example.test' };
    const unknown = `/credentials/${randomBytes(16).toString('base64url')}`;
    const notFound = { delete: (await client.delete(unknown)).text, patch: '' };
    notFound.patch = (await client.patch(unknown, { nickname: 'x' })).text;
    // A truncated escape, escapes that are not hex, a lone `%`, bytes that are not UTF-8.
    for (const id of ['%E0%A4%A', '%ZZ', '%', 'AAAA%C0%AF', '%FF', 'a%2', `${credentialId}%`]) {
      const path = `/credentials/${id}`;
      expectErrorBody(await client.delete(path, foreign), 403, 'forbidden_origin');
      expectErrorBody(await signedOut.patch(path, { nickname: 'x' }, foreign), 403, 'forbidden_origin');
      expectErrorBody(
        await client.patch(path, undefined, { body: 'nickname=x', contentType: 'text/plain' }),
        415,
        'unsupported_media_type',
      );
      const badBody = await client.patch(path, { nickname: '' });
      expectErrorBody(badBody, 400, 'invalid_request', ['field']);
      expect(badBody.body.error.field).toBe('nickname');
      expectErrorBody(await signedOut.delete(path), 401, 'unauthenticated');
      expectErrorBody(await signedOut.patch(path, { nickname: 'x' }), 401, 'unauthenticated');
      const deleted = await client.delete(path);
      expectErrorBody(deleted, 404, 'not_found');
      expect(deleted.text).toBe(notFound.delete);
      const renamed = await client.patch(path, { nickname: 'x' });
      expectErrorBody(renamed, 404, 'not_found');
      expect(renamed.text).toBe(notFound.patch);
    }
    // Nothing happened, and the server answers as before.
    const list = await client.get('/credentials');
    expect(list.status, list.text).toBe(200);
    expect(list.body.credentials).toEqual([expect.objectContaining({ id: credentialId, nickname: null })]);
  });

  it('invalid JSON, a non-object body and bad base64url are 400 invalid_request naming the field', async () => {
    const client = h.client();
    const broken = await client.post('/login/options', undefined, {
      body: '{"username":',
      contentType: 'application/json',
    });
    expectErrorBody(broken, 400, 'invalid_request', ['field']);
    expect(broken.body.error.field).toBe('$');
    const array = await client.post('/login/options', [1, 2]);
    expectErrorBody(array, 400, 'invalid_request', ['field']);
    expect(array.body.error.field).toBe('$');
    const emptyVerify = await client.post('/login/verify', undefined, {
      body: '',
      contentType: 'application/json',
    });
    expectErrorBody(emptyVerify, 400, 'invalid_request', ['field']);

    const started = await client.post('/login/options', {});
    const base = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
      clientExtensionResults: {},
    };
    const padded = await client.post('/login/verify', {
      ...base,
      response: { ...base.response, clientDataJSON: 'e30=' },
    });
    expectErrorBody(padded, 400, 'invalid_request', ['field']);
    expect(padded.body.error.field).toBe('response.clientDataJSON');
    const plus = await client.post('/login/verify', { ...base, id: 'ab+/' });
    expect(plus.body.error.field).toBe('id');
    const type = await client.post('/login/verify', { ...base, type: 'password' });
    expect(type.body.error.field).toBe('type');
    const missing = await client.post('/login/verify', { ...base, response: { clientDataJSON: 'e30' } });
    expect(missing.body.error.field).toBe('response.authenticatorData');
    expect(started.status).toBe(200);
  });

  it('every answer of the contract says cache-control: no-store', async () => {
    const client = h.client();
    const answers = [
      await client.post('/login/options', {}),
      await client.get('/session'),
      await client.post('/logout'),
      await client.post('/login/options', {}, { origin: 'null' }),
    ];
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('well-encoded but wrong WebAuthn data is verification_failed, not invalid_request', async () => {
    const client = h.client();
    const started = await client.post('/register/options', { username: uniqueUsername() });
    const response = await new SoftwareAuthenticator().createCredential(started.body, {
      origin: ORIGIN,
      clientDataJSON: '{"type":"webauthn.create"}',
    });
    expectErrorBody(await client.post('/register/verify', response), 400, 'verification_failed');
  });
}
