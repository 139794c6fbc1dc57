import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createMemoryStores, createPassgate, type Passgate, silentLogger } from '@passgate/core';
import { createFetchHandler, type FetchHandlerOptions } from '@passgate/core/fetch';
import {
  type ContractApp,
  ContractClient,
  describeHttpContract,
  memoryCookieSessions,
  ORIGIN,
  RP_ID,
} from '@passgate/testing/contract';
import { type Context, Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';

/** A Hono app on Node that routes the prefix and the well-known path to the fetch handler. */
async function startHono(
  passgate: Passgate,
  options: Partial<FetchHandlerOptions> = {},
): Promise<ContractApp & { app: Hono }> {
  const passkeys = createFetchHandler(passgate, { session: memoryCookieSessions(), ...options });
  const app = new Hono();
  const toPasskeys = (c: Context) => passkeys(c.req.raw, { ip: getConnInfo(c).remote.address });
  app.all('/passkeys', toPasskeys);
  app.all('/passkeys/*', toPasskeys);
  app.on(['GET', 'HEAD'], '/.well-known/webauthn', toPasskeys);
  app.get('/', (c) => c.text('the app'));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

describeHttpContract('fetch handler (Hono on Node)', ({ passgate, identify, onPasskeySignIn }) =>
  startHono(passgate, {
    identify: (request) => identify({ headers: { cookie: request.headers.get('cookie') ?? undefined } }),
    onPasskeySignIn: (signIn, _headers, request) => onPasskeySignIn(request, undefined, signIn),
  }),
);

function passgateFor(): Passgate {
  return createPassgate({
    rp: { name: 'Fetch test', id: RP_ID, origins: [ORIGIN] },
    stores: createMemoryStores(),
    secret: 'fetch-handler-test-secret-0123456789',
    logger: silentLogger,
  });
}

const opened: ContractApp[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});
async function open(passgate: Passgate, options: Partial<FetchHandlerOptions> = {}) {
  const app = await startHono(passgate, options);
  opened.push(app);
  return app;
}

describe('createFetchHandler', () => {
  it('serves GET and HEAD /.well-known/webauthn with rp.relatedOrigins, 404 without', async () => {
    const relatedOrigins = ['https://example-shop.com', 'https://example.co.uk'];
    const served = await open(
      createPassgate({
        rp: { name: 'Fetch test', id: RP_ID, origins: [ORIGIN], relatedOrigins },
        stores: createMemoryStores(),
        secret: 'fetch-handler-test-secret-0123456789',
        logger: silentLogger,
      }),
    );
    const get = await new ContractClient(served.url).request('GET', '/.well-known/webauthn');
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/^application\/json/);
    expect(get.body).toEqual({ origins: relatedOrigins });
    const head = await fetch(`${served.url}/.well-known/webauthn`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    const plain = await open(passgateFor());
    const missing = await new ContractClient(plain.url).request('GET', '/.well-known/webauthn');
    expect(missing.status).toBe(404);
  });

  it('answers 404 not_found in the contract body for a path under the prefix that is no route', async () => {
    const app = await open(passgateFor());
    const answer = await new ContractClient(app.url).request('GET', '/passkeys/nope');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    // The host app's own routes are untouched.
    expect(await (await fetch(`${app.url}/`)).text()).toBe('the app');
  });

  it('a chunked body over the limit is 413, read no further than the limit', async () => {
    const app = await open(passgateFor(), { maxBodyBytes: 1024 });
    const chunk = new TextEncoder().encode(`{"username":"${'x'.repeat(600)}`);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 50) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${app.url}/passkeys/register/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    // The unread rest is not waited for: the client is told not to reuse the connection.
    expect(response.headers.get('connection')).toBe('close');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('the contract check order holds: a foreign origin is 403 before the media type and the size', async () => {
    const app = await open(passgateFor());
    const answer = await new ContractClient(app.url).request('POST', '/passkeys/register/options', {
      body: 'x'.repeat(100_000),
      contentType: 'text/plain',
      origin: 'https://evil.example',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('forbidden_origin');
  });

  it('a throwing session hook is 500 internal_error without its message, and is logged', async () => {
    const logged: string[] = [];
    const passgate = createPassgate({
      rp: { name: 'Fetch test', id: RP_ID, origins: [ORIGIN] },
      stores: createMemoryStores(),
      secret: 'fetch-handler-test-secret-0123456789',
      logger: { ...silentLogger, error: (message) => logged.push(message) },
    });
    const hooks = memoryCookieSessions();
    const app = await open(passgate, {
      session: {
        ...hooks,
        getSignedInUser() {
          throw new Error('session store password=hunter2 unreachable');
        },
      },
    });
    const answer = await new ContractClient(app.url).request('GET', '/passkeys/session');
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('internal_error');
    expect(answer.text).not.toContain('hunter2');
    expect(logged).toEqual(['passgate request failed']);
  });

  it('sign-in goes through onSignIn with the response headers; logout through onSignOut', async () => {
    const hooks = memoryCookieSessions({ cookieName: 'app_sid' });
    const app = await open(passgateFor(), { session: hooks });
    const { SoftwareAuthenticator } = await import('@passgate/testing');
    const client = new ContractClient(app.url);
    const options = await client.post('/register/options', { username: 'hono-user' });
    const response = await new SoftwareAuthenticator().createCredential(options.body, { origin: ORIGIN });
    const verified = await client.post('/register/verify', response);
    expect(verified.status).toBe(200);
    // The ceremony cookie is cleared and the app's own session cookie is set, both on one response.
    expect(verified.setCookies.map((c) => c.split('=')[0]).sort()).toEqual(['app_sid', 'passgate_ceremony']);
    expect(hooks.size).toBe(1);
    expect((await client.get('/session')).status).toBe(200);
    expect((await client.post('/logout')).status).toBe(204);
    expect(hooks.size).toBe(0);
    expect((await client.get('/session')).status).toBe(401);
  });

  it('refuses to start without session hooks', () => {
    expect(() => createFetchHandler(passgateFor(), {} as FetchHandlerOptions)).toThrow(/session/);
  });
});
