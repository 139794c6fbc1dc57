/**
 * A real Passgate server for the client's unit tests: @passgate/express with express-session and
 * memory stores, on 127.0.0.1, plus a `fetch` that behaves like a browser on the app's origin
 * (cookies kept, `Origin` sent on non-GET requests) and records what the client sent.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createMemoryStores, createPassgate, type PassgateOptions, silentLogger } from '@passgate/core';
import { type ApplicationSignInOptions, createPasskeyRouter } from '@passgate/express';
import { ContractClient, ORIGIN, RP_ID } from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';

export interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface TestServer {
  url: string;
  /** Moves the server's clock (the sensitive-action window). */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function startServer(
  overrides: Partial<PassgateOptions> = {},
  prefix?: string,
  /** The application's own sign-in (`identify` of the router), e.g. a password sign-in. */
  identify?: ApplicationSignInOptions['identify'],
): Promise<TestServer> {
  let offset = 0;
  const passgate = createPassgate({
    rp: { name: 'Browser client tests', id: RP_ID, origins: [ORIGIN] },
    stores: createMemoryStores({ now: () => Date.now() + offset }),
    secret: 'browser-client-tests-secret-0123456789',
    logger: silentLogger,
    rateLimits: { perIp: false, accountFailures: false },
    now: () => Date.now() + offset,
    ...overrides,
  });
  const app = express();
  app.use(session({ secret: 'browser-client-tests-session', resave: false, saveUninitialized: false }));
  app.use(
    createPasskeyRouter({ passgate, ...(prefix ? { prefix } : {}), ...(identify ? { identify } : {}) }),
  );
  app.get('/not-json', (_req, res) => {
    res.status(502).type('text/html').send('<h1>Bad gateway</h1>');
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    advance: (ms) => {
      offset += ms;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A browser tab's `fetch`: one cookie jar, `Origin` on state-changing requests, every request recorded. */
export function browserFetch(baseUrl: string): {
  fetch: typeof fetch;
  sent: SentRequest[];
  jar: ContractClient;
} {
  const jar = new ContractClient(baseUrl);
  const sent: SentRequest[] = [];
  const fetchLike = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), baseUrl);
    const headers = new Headers(init.headers);
    const method = init.method ?? 'GET';
    if (method !== 'GET') headers.set('origin', ORIGIN);
    const cookie = jar.cookieHeader();
    if (cookie) headers.set('cookie', cookie);
    sent.push({
      method,
      path: url.pathname,
      headers: Object.fromEntries(headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const response = await fetch(url, { ...init, headers });
    jar.absorb(response.headers.getSetCookie());
    return response;
  };
  return { fetch: fetchLike as typeof fetch, sent, jar };
}
