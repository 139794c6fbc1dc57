import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Passgate } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import session from 'express-session';
import { createDemoApp, type DemoBackend, loadDemoConfig, resolveOrigin } from '../src/index.js';

/**
 * The Express demo app in-process on a store the test controls, and clients that keep signing up
 * and signing in while the test breaks the store, recording what they saw succeed.
 */

export interface DemoUnderTest {
  url: string;
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves the demo app (its routes, page and passkey router) on 127.0.0.1 with the Passgate that
 * `makePassgate` builds for the demo's origin (`http://localhost:<port>`, known once it listens).
 */
export async function serveDemoApp(makePassgate: (origin: string) => Passgate): Promise<DemoUnderTest> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const config = resolveOrigin(
    loadDemoConfig(
      { PORT: String(port), SESSION_SECRET: 'fault-test-session-secret-0123456789' },
      { warn() {} },
    ),
    port,
  );
  // Sessions stay in memory here: the subject is the passkey stores (an app's own session store
  // failing is the app's error, answered by its own error handling).
  const backend: DemoBackend = {
    passgate: makePassgate(config.origin),
    sessionStore: new session.MemoryStore(),
    description: 'fault test',
    close: async () => {},
  };
  server.on('request', createDemoApp(config, backend));
  return {
    url: `http://127.0.0.1:${port}`,
    origin: config.origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Outcome {
  kind: 'sign-up' | 'sign-in' | 'options';
  status: number;
  ms: number;
  code?: string | undefined;
  /** When it was sent, ms since the load started. */
  at: number;
}

export interface LoadResult {
  outcomes: Outcome[];
  /** Sign-ups the clients saw succeed: username → credential id. */
  signedUp: Map<string, string>;
  /** Per credential id: the highest counter of a sign-in the client saw succeed. */
  lastCounter: Map<string, number>;
  /** Per credential id: the highest counter ever sent (succeeded or not). */
  sentCounter: Map<string, number>;
}

async function post(demo: DemoUnderTest, path: string, body: unknown, cookie?: string) {
  const started = performance.now();
  const response = await fetch(`${demo.url}/passkeys${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: demo.origin,
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json: { error?: { code?: string } } & Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('passgate_ceremony='));
  return { status: response.status, ms, json, cookie: setCookie?.split(';')[0] };
}

/**
 * `clients` loops, each signing up one account (a new username after a failed try) and then signing
 * in with it over and over, until `stop()` resolves.
 */
export async function runLoad(
  demo: DemoUnderTest,
  clients: number,
  stop: Promise<void>,
): Promise<LoadResult> {
  const result: LoadResult = {
    outcomes: [],
    signedUp: new Map(),
    lastCounter: new Map(),
    sentCounter: new Map(),
  };
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const t0 = performance.now();
  let names = 0;
  const run = Math.random().toString(36).slice(2, 8);
  const note = (kind: Outcome['kind'], answer: Awaited<ReturnType<typeof post>>, at: number) => {
    result.outcomes.push({ kind, status: answer.status, ms: answer.ms, code: answer.json.error?.code, at });
  };
  const loop = async (client: number) => {
    const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'] });
    let credentialId: string | undefined;
    while (!stopped) {
      const at = performance.now() - t0;
      if (credentialId === undefined) {
        const username = `fault-${run}-${client}-${++names}`;
        const options = await post(demo, '/register/options', { username });
        note('options', options, at);
        if (options.status !== 200) continue;
        const created = await authenticator.createCredential(options.json as never, { origin: demo.origin });
        const verified = await post(demo, '/register/verify', created, options.cookie);
        note('sign-up', verified, at);
        if (verified.status === 200) {
          credentialId = created.id;
          result.signedUp.set(username, created.id);
        }
        // After a failed sign-up the next try uses a new username (the credential stays unused).
        continue;
      }
      const options = await post(demo, '/login/options', {});
      note('options', options, at);
      if (options.status !== 200) continue;
      const assertion = await authenticator.getAssertion(options.json as never, {
        origin: demo.origin,
        credentialId,
      });
      const counter = authenticator.credentials.find((c) => c.id === credentialId)?.counter ?? 0;
      result.sentCounter.set(credentialId, counter);
      const verified = await post(demo, '/login/verify', assertion, options.cookie);
      note('sign-in', verified, at);
      if (verified.status === 200) result.lastCounter.set(credentialId, counter);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
  return result;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
