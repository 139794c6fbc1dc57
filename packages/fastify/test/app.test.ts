import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { createMemoryStores, createPassgate, silentLogger } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { ContractClient, expectError, ORIGIN, RP_ID, signUp } from '@passgate/testing/contract';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { passkeys, passkeysRewriteUrl, requireSignIn } from '../src/index.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/**
 * What the contract suite does not cover: the app's own routes beside the plugin. With a `prefix`,
 * the plugin is mounted there and the app has the README's `rewriteUrl` for it.
 */
async function start(prefix?: string): Promise<string> {
  app = Fastify(prefix === undefined ? {} : { rewriteUrl: passkeysRewriteUrl({ prefix }) });
  await app.register(fastifyCookie);
  await app.register(fastifySession, { secret: SECRET, saveUninitialized: false, cookie: { secure: false } });
  const passgate = createPassgate({
    rp: { name: 'Passgate test', id: RP_ID, origins: [ORIGIN] },
    stores: createMemoryStores(),
    secret: SECRET,
    logger: silentLogger,
  });
  await app.register(passkeys, { passgate, sessionCookieName: 'sessionId', ...(prefix ? { prefix } : {}) });
  app.get('/files/:name', async (request) => ({
    name: (request.params as { name: string }).name,
    url: request.url,
  }));
  app.post('/app/echo', async (request) => ({ body: request.body, signedIn: request.passkey !== null }));
  app.get('/app/me', { preHandler: requireSignIn() }, async (request) => ({
    userId: request.passkey?.userId,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

describe('@passgate/fastify beside the app', () => {
  it("keeps Fastify's body parser on the app's routes and sets request.passkey; requireSignIn guards", async () => {
    const client = new ContractClient(await start());
    const echo = await client.request('POST', '/app/echo', { json: { hello: 'world' } });
    expect(echo.body).toEqual({ body: { hello: 'world' }, signedIn: false });
    const denied = await client.request('GET', '/app/me');
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });

    const options = await client.post('/register/options', { username: 'ada' });
    const response = await new SoftwareAuthenticator().createCredential(options.body as never, {
      origin: ORIGIN,
    });
    const verify = await client.post('/register/verify', response);
    expect(verify.status).toBe(200);
    expect((await client.request('GET', '/app/me')).body).toEqual({
      userId: (verify.body as { user: { id: string } }).user.id,
    });
    expect((await client.request('POST', '/app/echo', { json: { n: 1 } })).body).toEqual({
      body: { n: 1 },
      signedIn: true,
    });
  });
});

describe("@passgate/fastify with prefix '/'", () => {
  it('serves the contract at the site root and leaves every other path to the app', async () => {
    const client = new ContractClient(await start('/'), { prefix: '' });
    const options = await client.post('/login/options', {});
    expect({ status: options.status, cookies: options.setCookies }).toEqual({
      status: 200,
      cookies: [expect.stringContaining('; Path=/; ')],
    });
    const echo = await client.request('POST', '/app/echo', { json: { hello: 'world' } });
    expect(echo.body).toEqual({ body: { hello: 'world' }, signedIn: false });
    expect((await client.request('GET', '/files/login')).body).toEqual({
      name: 'login',
      url: '/files/login',
    });
    expect((await client.request('GET', '/loginX')).status).toBe(404);
    const { userId, credentialId } = await signUp(client);
    const renamed = await client.patch(`/credentials/${credentialId}`, { nickname: 'Laptop' });
    expect([renamed.status, renamed.body.nickname]).toEqual([200, 'Laptop']);
    expect((await client.request('GET', '/app/me')).body).toEqual({ userId });
  });
});

describe('passkeysRewriteUrl', () => {
  it.each([
    ['/auth', '/auth'],
    ['/', ''],
  ])(
    "with prefix %s, gives a malformed contract path to the contract, and leaves the app's paths to Fastify",
    async (prefix, root) => {
      const client = new ContractClient(await start(prefix), { prefix: root });
      const foreign = await client.delete('/credentials/%ZZ', { origin: 'https://evil.example.test' });
      expectError(foreign, 403, 'forbidden_origin');
      const signedOut = await client.delete('/credentials/%E0%A4%A');
      expectError(signedOut, 401, 'unauthenticated');
      // Elsewhere (the app's routes, at the root too), Fastify answers as it always does; well-encoded
      // paths and queries are untouched.
      const elsewhere = await client.request('GET', '/files/%ZZ');
      expect({ status: elsewhere.status, code: elsewhere.body.code }).toEqual({
        status: 400,
        code: 'FST_ERR_BAD_URL',
      });
      expect((await client.request('GET', '/files/a%20b?q=%ZZ')).body).toEqual({
        name: 'a b',
        url: '/files/a%20b?q=%ZZ',
      });
    },
  );
});
