import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Passgate } from '@passgate/core';
import { createPasskeyRouter } from '@passgate/express';
import { SoftwareAuthenticator } from '@passgate/testing';
import express from 'express';
import session from 'express-session';
import { afterEach, describe, expect, it } from 'vitest';
import { PasskeysModule } from '../src/index.js';
import { type Booted, boot, Client, ORIGIN, type Reply, SECRET, testPassgate } from './helpers.js';

/**
 * The same scripted requests against `@passgate/express` and `@passgate/nestjs`, each with its own
 * Passgate instance configured alike: statuses, contract headers, bodies (random ids, challenges and
 * timestamps replaced by placeholders) and Set-Cookie attributes must be identical.
 */

const opened: Booted[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

async function expressApp(passgate: Passgate): Promise<Booted> {
  const app = express();
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));
  app.use(createPasskeyRouter({ passgate }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const booted: Booted = {
    app: undefined as never,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  opened.push(booted);
  return booted;
}

async function nestApp(passgate: Passgate): Promise<Booted> {
  const booted = await boot({ imports: [PasskeysModule.forRoot({ passgate })] });
  opened.push(booted);
  return booted;
}

const RANDOM_KEYS = new Set([
  'challenge',
  'id',
  'rawId',
  'userId',
  'credentialId',
  'createdAt',
  'lastUsedAt',
  'authenticatedAt',
]);

/** Replaces values that are random per instance (ids, challenges, times) with placeholders. */
function normalize(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    return key === 'allAcceptedCredentialIds' ? value.map(() => '<id>') : value.map((v) => normalize(v));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, k)]));
  }
  if (typeof value === 'string' && RANDOM_KEYS.has(key) && key !== 'rpId') return '<random>';
  return value;
}

/** What must match: status, the contract's headers, the normalized body, cookie names and attributes. */
function view(reply: Reply) {
  return {
    status: reply.status,
    contentType: reply.headers.get('content-type'),
    cacheControl: reply.headers.get('cache-control'),
    retryAfter: reply.headers.get('retry-after'),
    body: normalize(reply.body),
    cookies: reply.cookies.map((cookie) => cookie.replace(/^([^=]+)=[^;]*/, '$1=<value>')),
  };
}

type Step = (client: Client, state: Record<string, any>) => Promise<Reply>;

async function run(base: string, steps: [string, Step][]) {
  const client = new Client(base);
  const state: Record<string, any> = { authenticator: new SoftwareAuthenticator() };
  const views: Record<string, unknown> = {};
  for (const [name, step] of steps) views[name] = view(await step(client, state));
  return views;
}

const big = JSON.stringify({ username: 'x'.repeat(1024 * 1024) });

const script: [string, Step][] = [
  ['session signed out', (c) => c.get('/passkeys/session')],
  ['credentials signed out', (c) => c.get('/passkeys/credentials')],
  ['foreign origin', (c) => c.post('/passkeys/register/options', {}, { origin: 'https://evil.example' })],
  ['null origin', (c) => c.post('/passkeys/login/options', {}, { origin: 'null' })],
  ['text/plain', (c) => c.post('/passkeys/login/options', '{}', { 'content-type': 'text/plain' })],
  ['1 MB body', (c) => c.post('/passkeys/register/options', big)],
  ['bad JSON', (c) => c.post('/passkeys/login/options', '{bad')],
  ['array body', (c) => c.post('/passkeys/login/options', '[]')],
  ['missing username', (c) => c.post('/passkeys/register/options', {})],
  ['bad hint', (c) => c.post('/passkeys/login/options', { hints: ['usb'] })],
  ['verify without ceremony', (c) => c.post('/passkeys/login/verify', { id: 'AAAA' })],
  [
    'register options',
    async (c, s) => {
      const reply = await c.post('/passkeys/register/options', { username: 'alice', displayName: 'Alice' });
      s.options = reply.body;
      return reply;
    },
  ],
  [
    'register verify',
    async (c, s) => {
      s.response = await s.authenticator.createCredential(s.options, { origin: ORIGIN });
      const reply = await c.post('/passkeys/register/verify', { ...s.response, nickname: 'Laptop' });
      s.credentialId = reply.body.credential.id;
      return reply;
    },
  ],
  ['register verify replayed', (c, s) => c.post('/passkeys/register/verify', s.response)],
  ['session signed in', (c) => c.get('/passkeys/session')],
  ['taken username', (c) => new Client(c.base).post('/passkeys/register/options', { username: 'alice' })],
  ['credentials', (c) => c.get('/passkeys/credentials')],
  ['rename', (c, s) => c.request('PATCH', `/passkeys/credentials/${s.credentialId}`, { nickname: 'Work' })],
  ['rename empty', (c, s) => c.request('PATCH', `/passkeys/credentials/${s.credentialId}`, { nickname: '' })],
  [
    'rename unknown',
    (c) => c.request('PATCH', '/passkeys/credentials/AAAAAAAAAAAAAAAAAAAAAA', { nickname: 'x' }),
  ],
  ['delete last', (c, s) => c.request('DELETE', `/passkeys/credentials/${s.credentialId}`)],
  [
    'login options (username)',
    async (c, s) => {
      const reply = await c.post('/passkeys/login/options', { username: 'alice' });
      s.loginOptions = reply.body;
      return reply;
    },
  ],
  [
    'login verify',
    async (c, s) =>
      c.post(
        '/passkeys/login/verify',
        await s.authenticator.getAssertion(s.loginOptions, { origin: ORIGIN }),
      ),
  ],
  ['login options (unknown user)', (c) => c.post('/passkeys/login/options', { username: 'nobody' })],
  ['logout', (c) => c.post('/passkeys/logout')],
  ['session after logout', (c) => c.get('/passkeys/session')],
  [
    'logout without body and origin',
    (c) => c.request('POST', '/passkeys/logout', undefined, { origin: ORIGIN }),
  ],
];

describe('@passgate/nestjs answers exactly like @passgate/express', () => {
  it('the same script gives the same statuses, headers, bodies and cookies', async () => {
    const [fromExpress, fromNest] = await Promise.all([
      expressApp(testPassgate()).then((app) => run(app.url, script)),
      nestApp(testPassgate()).then((app) => run(app.url, script)),
    ]);
    for (const [name] of script)
      expect({ step: name, ...(fromNest[name] as object) }).toEqual({
        step: name,
        ...(fromExpress[name] as object),
      });
    // The script did reach the interesting answers (not, say, 404 everywhere).
    expect((fromNest['register verify'] as { status: number }).status).toBe(200);
    expect((fromNest['login verify'] as { status: number }).status).toBe(200);
    expect((fromNest['delete last'] as { status: number }).status).toBe(409);
  });

  it('the same 429 with Retry-After from the per-IP limit', async () => {
    const limited = () =>
      testPassgate({ rateLimits: { perIp: { points: 2, durationSeconds: 60 }, accountFailures: false } });
    const steps: [string, Step][] = [1, 2, 3].map((n) => [
      `login options ${n}`,
      (c) => c.post('/passkeys/login/options', {}),
    ]);
    const [fromExpress, fromNest] = await Promise.all([
      expressApp(limited()).then((app) => run(app.url, steps)),
      nestApp(limited()).then((app) => run(app.url, steps)),
    ]);
    expect(fromNest).toEqual(fromExpress);
    expect((fromNest['login options 3'] as { status: number }).status).toBe(429);
  });
});
