import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryStores, createPassgate, silentLogger } from '@passgate/core';
import { withStoreOutages } from '@passgate/express';
import { isUnavailableError } from '@passgate/redis';
import { SoftwareAuthenticator } from '@passgate/testing';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoApp, loadDemoConfig, resolveOrigin } from '../src/index.js';

/**
 * The session store is the application's, but a sign-in writes to it: when it cannot be reached the
 * answer is the contract's `503 store_unavailable`, as for Passgate's own stores, never a 500 (the
 * soak saw a Redis command timing out during a sign-in's session save answered 500). `withStoreOutages`
 * is the published one, as an app imports it from `@passgate/express`.
 */
const unreachable = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false });
unreachable.on('error', () => {});
afterAll(() => unreachable.disconnect());

async function serve(sessionStore: RedisStore) {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const config = resolveOrigin(
    loadDemoConfig({ PORT: String(port), SESSION_SECRET: 'session-store-test-secret' }, { warn: () => {} }),
    port,
  );
  const passgate = createPassgate({
    rp: { name: 'session store test', id: config.rpId, origins: [config.origin] },
    stores: createMemoryStores(),
    secret: config.passgateSecret,
    logger: silentLogger,
  });
  server.on(
    'request',
    createDemoApp(config, { passgate, sessionStore, description: 'test', close: async () => {} }),
  );
  return { server, origin: config.origin, base: `http://127.0.0.1:${port}/passkeys` };
}

async function signUp(base: string, origin: string) {
  const options = await fetch(`${base}/register/options`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice' }),
  });
  expect(options.status).toBe(200);
  const cookie = options.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const created = await new SoftwareAuthenticator().createCredential(await options.json(), { origin });
  return fetch(`${base}/register/verify`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', cookie },
    body: JSON.stringify(created),
  });
}

describe('the demo session store on Redis', () => {
  it('unreachable at sign-in: 503 store_unavailable (a 500 without withStoreOutages)', async () => {
    for (const [store, status, code] of [
      [
        withStoreOutages(new RedisStore({ client: unreachable }), isUnavailableError),
        503,
        'store_unavailable',
      ],
      [new RedisStore({ client: unreachable }), 500, 'internal_error'],
    ] as const) {
      const { server, base, origin } = await serve(store);
      try {
        const answer = await signUp(base, origin);
        expect({
          status: answer.status,
          code: ((await answer.json()) as { error: { code: string } }).error.code,
        }).toEqual({
          status,
          code,
        });
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
