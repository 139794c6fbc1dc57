import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Passgate } from '@passgate/core';
import { createFetchHandler } from '@passgate/core/fetch';
import { createPasskeyRouter } from '@passgate/express';
import { passkeys, passkeysRewriteUrl } from '@passgate/fastify';
import { SoftwareAuthenticator } from '@passgate/testing';
import { type Answer, type ContractClient, memoryCookieSessions } from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { PasskeysModule } from '../src/index.js';
import {
  type Booted,
  boot,
  bootFastify,
  browser,
  FASTIFY_SESSION,
  ORIGIN,
  rawJson,
  SECRET,
  testPassgate,
} from './helpers.js';

/**
 * The same scripted requests against `@passgate/express`, `@passgate/nestjs` (on Express with
 * express-session, and on Fastify with @fastify/session) and the Web-standard handler of
 * `@passgate/core/fetch` (in Hono on Node), each with its own Passgate instance configured
 * alike: statuses, contract headers, bodies (random ids, challenges and timestamps replaced by
 * placeholders) and Set-Cookie attributes must be identical. The fetch handler leaves the session
 * cookie to the application (here a signed cookie of the testing kit), so for it the session
 * cookie is compared by what it does (set or cleared), the ceremony cookie exactly.
 */

const opened: Booted[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/**
 * The application's own sign-in, the same for both apps: the `app_user` cookie names the user
 * (`broken` makes identify throw, `garbage` answers something that is not a user).
 */
const AUTHENTICATED_AT = Date.now();
function identify(req: { headers: Record<string, string | string[] | undefined> }) {
  const match = /(?:^|;\s*)app_user=([^;]+)/.exec(String(req.headers['cookie'] ?? ''));
  if (!match) return null;
  if (match[1] === 'broken') throw new Error('user directory down');
  if (match[1] === 'garbage') return { id: 7 } as never;
  return { userId: `app-${match[1]}`, name: `${match[1]}@example.test`, authenticatedAt: AUTHENTICATED_AT };
}
const appSignIn = { identify, onPasskeySignIn: () => {} };

async function expressApp(passgate: Passgate): Promise<Booted> {
  const app = express();
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));
  app.use(createPasskeyRouter({ passgate, ...appSignIn }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return tracked(server);
}

/** A listening Node server as a `Booted`, closed after each test. */
function tracked(server: Server): Booted {
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

async function fetchApp(passgate: Passgate): Promise<Booted> {
  const passkeys = createFetchHandler(passgate, { session: memoryCookieSessions() });
  const app = new Hono();
  app.all('*', (c) => passkeys(c.req.raw, { ip: getConnInfo(c).remote.address }));
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  return tracked(server);
}

async function nestApp(passgate: Passgate): Promise<Booted> {
  const booted = await boot({ imports: [PasskeysModule.forRoot({ passgate, ...appSignIn })] });
  opened.push(booted);
  return booted;
}

/** `@passgate/fastify` in a plain Fastify 5 app, with @fastify/session configured as in `bootFastify`. */
async function fastifyApp(passgate: Passgate): Promise<Booted> {
  const app = Fastify({ rewriteUrl: passkeysRewriteUrl() });
  await app.register(fastifyCookie);
  await app.register(fastifySession, FASTIFY_SESSION);
  await app.register(passkeys, { passgate, ...appSignIn });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return tracked(app.server);
}

/** The same module on @nestjs/platform-fastify with @fastify/session. */
async function nestFastifyApp(passgate: Passgate): Promise<Booted> {
  const booted = await bootFastify({ imports: [PasskeysModule.forRoot({ passgate, ...appSignIn })] });
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

/**
 * What must match: status, the contract's headers, the normalized body, cookie names and attributes.
 * `sessionCookie: 'effect'` keeps only whether a session cookie was set or cleared (its name and
 * attributes are the application's choice, not the contract's). `'outcome'` is for another session
 * library (@fastify/session instead of express-session): the ceremony cookie exactly, and for the
 * session cookie what the browser is left with after all of the answer's Set-Cookie values (the
 * library may clear the old cookie before setting the new one): signed in by this answer, or, on an
 * answer that signs nobody in, a new empty session or a cleared cookie alike, both signed out.
 */
function view(reply: Answer, sessionCookie: 'exact' | 'effect' | 'outcome' = 'exact') {
  const ceremony = (cookie: string) => cookie.startsWith('passgate_ceremony=');
  const cookies = reply.setCookies.map((cookie) => cookie.replace(/^([^=]+)=[^;]*/, '$1=<value>'));
  const cleared = (cookie: string) => /^[^=]+=;|max-age=0|expires=thu, 01 jan 1970/i.test(cookie);
  const signsIn = reply.status === 200 && reply.body?.verified === true;
  const outcome = () => {
    const last = new Map<string, string>();
    for (const cookie of reply.setCookies.filter((c) => !ceremony(c)))
      last.set(cookie.split('=')[0] ?? '', cookie);
    return [...last.values()].map((cookie) =>
      !cleared(cookie) && signsIn ? '<session set>' : '<signed out>',
    );
  };
  return {
    status: reply.status,
    contentType: reply.headers.get('content-type'),
    cacheControl: reply.headers.get('cache-control'),
    retryAfter: reply.headers.get('retry-after'),
    body: normalize(reply.body ?? (reply.text || undefined)),
    cookies:
      sessionCookie === 'exact'
        ? cookies
        : sessionCookie === 'outcome'
          ? [...cookies.filter(ceremony), ...outcome()]
          : [
              ...cookies.filter(ceremony),
              ...reply.setCookies
                .filter((cookie) => !ceremony(cookie))
                .map((cookie) => (cleared(cookie) ? '<session cleared>' : '<session set>')),
            ],
  };
}

type Step = (client: ContractClient, state: Record<string, any>) => Promise<Answer>;

async function run(base: string, steps: [string, Step][]) {
  const client = browser(base);
  const state: Record<string, any> = { authenticator: new SoftwareAuthenticator() };
  const exact: Record<string, unknown> = {};
  const effect: Record<string, unknown> = {};
  const outcome: Record<string, unknown> = {};
  for (const [name, step] of steps) {
    const reply = await step(client, state);
    exact[name] = view(reply);
    effect[name] = view(reply, 'effect');
    outcome[name] = view(reply, 'outcome');
  }
  return { exact, effect, outcome };
}

const big = JSON.stringify({ username: 'x'.repeat(1024 * 1024) });

const script: [string, Step][] = [
  ['session signed out', (c) => c.get('/session')],
  ['credentials signed out', (c) => c.get('/credentials')],
  ['malformed id signed out', (c) => c.delete('/credentials/%E0%A4%A')],
  ['foreign origin', (c) => c.post('/register/options', {}, { origin: 'https://evil.example' })],
  ['null origin', (c) => c.post('/login/options', {}, { origin: 'null' })],
  ['text/plain', (c) => c.post('/login/options', undefined, { body: '{}', contentType: 'text/plain' })],
  ['1 MB body', (c) => c.post('/register/options', undefined, rawJson(big))],
  ['bad JSON', (c) => c.post('/login/options', undefined, rawJson('{bad'))],
  ['array body', (c) => c.post('/login/options', undefined, rawJson('[]'))],
  ['missing username', (c) => c.post('/register/options', {})],
  ['bad hint', (c) => c.post('/login/options', { hints: ['usb'] })],
  ['verify without ceremony', (c) => c.post('/login/verify', { id: 'AAAA' })],
  [
    'register options',
    async (c, s) => {
      const reply = await c.post('/register/options', { username: 'alice', displayName: 'Alice' });
      s.options = reply.body;
      return reply;
    },
  ],
  [
    'register verify',
    async (c, s) => {
      s.response = await s.authenticator.createCredential(s.options, { origin: ORIGIN });
      const reply = await c.post('/register/verify', { ...s.response, nickname: 'Laptop' });
      s.credentialId = reply.body.credential.id;
      return reply;
    },
  ],
  ['register verify replayed', (c, s) => c.post('/register/verify', s.response)],
  ['session signed in', (c) => c.get('/session')],
  ['taken username', (c) => browser(c.baseUrl).post('/register/options', { username: 'alice' })],
  ['credentials', (c) => c.get('/credentials')],
  ['rename', (c, s) => c.patch(`/credentials/${s.credentialId}`, { nickname: 'Work' })],
  ['rename empty', (c, s) => c.patch(`/credentials/${s.credentialId}`, { nickname: '' })],
  ['rename unknown', (c) => c.patch('/credentials/AAAAAAAAAAAAAAAAAAAAAA', { nickname: 'x' })],
  ['rename malformed id', (c) => c.patch('/credentials/%ZZ', { nickname: 'x' })],
  ['delete malformed id', (c) => c.delete('/credentials/%E0%A4%A')],
  ['malformed id, foreign origin', (c) => c.delete('/credentials/%ZZ', { origin: 'https://evil.example' })],
  ['delete last', (c, s) => c.delete(`/credentials/${s.credentialId}`)],
  [
    'login options (username)',
    async (c, s) => {
      const reply = await c.post('/login/options', { username: 'alice' });
      s.loginOptions = reply.body;
      return reply;
    },
  ],
  [
    'login verify',
    async (c, s) =>
      c.post('/login/verify', await s.authenticator.getAssertion(s.loginOptions, { origin: ORIGIN })),
  ],
  ['login options (unknown user)', (c) => c.post('/login/options', { username: 'nobody' })],
  ['logout', (c) => c.post('/logout')],
  ['session after logout', (c) => c.get('/session')],
  ['logout without body and origin', (c) => c.post('/logout', undefined, { origin: ORIGIN })],
];

describe('@passgate/nestjs (on Express and Fastify), @passgate/fastify and @passgate/core/fetch answer exactly like @passgate/express', () => {
  it('the same script gives the same statuses, headers, bodies and cookies', async () => {
    const [express, nest, nestFastify, web, plainFastify] = await Promise.all([
      expressApp(testPassgate()).then((app) => run(app.url, script)),
      nestApp(testPassgate()).then((app) => run(app.url, script)),
      nestFastifyApp(testPassgate()).then((app) => run(app.url, script)),
      fetchApp(testPassgate()).then((app) => run(app.url, script)),
      fastifyApp(testPassgate()).then((app) => run(app.url, script)),
    ]);
    for (const [name] of script) {
      expect({ step: name, ...(plainFastify.outcome[name] as object) }).toEqual({
        step: name,
        ...(express.outcome[name] as object),
      });
      expect({ step: name, ...(nest.exact[name] as object) }).toEqual({
        step: name,
        ...(express.exact[name] as object),
      });
      expect({ step: name, ...(nestFastify.outcome[name] as object) }).toEqual({
        step: name,
        ...(express.outcome[name] as object),
      });
      expect({ step: name, ...(web.effect[name] as object) }).toEqual({
        step: name,
        ...(express.effect[name] as object),
      });
    }
    // The script did reach the interesting answers (not, say, 404 everywhere).
    for (const answers of [nest.exact, nestFastify.exact, web.exact]) {
      expect((answers['register verify'] as { status: number }).status).toBe(200);
      expect((answers['login verify'] as { status: number }).status).toBe(200);
      expect((answers['delete last'] as { status: number }).status).toBe(409);
      expect((answers['delete malformed id'] as { status: number }).status).toBe(404);
    }
    expect((web.effect['login verify'] as { cookies: string[] }).cookies).toContain('<session set>');
    // On Fastify the sign-in lands in @fastify/session, and logout ends it.
    expect((nestFastify.outcome['login verify'] as { cookies: string[] }).cookies).toContain('<session set>');
    expect((nestFastify.outcome['logout'] as { cookies: string[] }).cookies).toEqual(['<signed out>']);
    expect((nestFastify.exact['session after logout'] as { status: number }).status).toBe(401);
    expect((web.effect['logout'] as { cookies: string[] }).cookies).toEqual(['<session cleared>']);
  });

  it('the same /.well-known/webauthn, served and not', async () => {
    const relatedOrigins = ['https://example-shop.com', 'https://example.co.uk'];
    const related = () =>
      testPassgate({ rp: { name: 'Passgate test', id: 'localhost', origins: [ORIGIN], relatedOrigins } });
    const steps: [string, Step][] = [['well-known', (c) => c.request('GET', '/.well-known/webauthn')]];
    const [
      served,
      servedByNest,
      servedByNestFastify,
      servedByFetch,
      plain,
      plainByFetch,
      plainByNestFastify,
    ] = await Promise.all([
      expressApp(related()).then((app) => run(app.url, steps)),
      nestApp(related()).then((app) => run(app.url, steps)),
      nestFastifyApp(related()).then((app) => run(app.url, steps)),
      fetchApp(related()).then((app) => run(app.url, steps)),
      expressApp(testPassgate()).then((app) => run(app.url, steps)),
      fetchApp(testPassgate()).then((app) => run(app.url, steps)),
      nestFastifyApp(testPassgate()).then((app) => run(app.url, steps)),
    ]);
    expect(servedByNest.exact).toEqual(served.exact);
    expect(servedByNestFastify.exact).toEqual(served.exact);
    expect(servedByFetch.exact).toEqual(served.exact);
    expect((served.exact['well-known'] as { body: unknown }).body).toEqual({ origins: relatedOrigins });
    // Not configured: 404 from both (Express's own 404, the handler's contract body).
    expect((plain.exact['well-known'] as { status: number }).status).toBe(404);
    expect((plainByFetch.exact['well-known'] as { status: number }).status).toBe(404);
    expect((plainByNestFastify.exact['well-known'] as { status: number }).status).toBe(404);
  });

  it("the same answers for the application's own users: link, conditional create, session end, bad identify", async () => {
    const as = (c: ContractClient, user: string) => {
      c.jar.set('app_user', user);
      return c;
    };
    const steps: [string, Step][] = [
      ['app session', (c) => as(c, 'ada').get('/session')],
      ['app credentials (none yet)', (c) => c.get('/credentials')],
      ['bad mediation', (c) => c.post('/register/options', { mediation: 'silent' })],
      [
        'conditional options',
        async (c, s) => {
          const reply = await c.post('/register/options', { mediation: 'conditional' });
          s.options = reply.body;
          return reply;
        },
      ],
      [
        'conditional verify without UP',
        async (c, s) => {
          const response = await s.authenticator.createCredential(s.options, {
            origin: ORIGIN,
            flags: { up: false, uv: false },
          });
          s.credentialId = response.id;
          return c.post('/register/verify', response);
        },
      ],
      ['app credentials', (c) => c.get('/credentials')],
      [
        'passkey sign-in elsewhere',
        async (_c, s) => {
          s.other = browser(_c.baseUrl);
          const options = (await s.other.post('/login/options', {})).body;
          return s.other.post(
            '/login/verify',
            await s.authenticator.getAssertion(options, { origin: ORIGIN }),
          );
        },
      ],
      ['session elsewhere', (_c, s) => s.other.get('/session')],
      ['app deletes its only passkey', (c, s) => c.delete(`/credentials/${s.credentialId}`)],
      ['session elsewhere after the delete', (_c, s) => s.other.get('/session')],
      ['conditional signed out', (_c, s) => s.other.post('/register/options', { mediation: 'conditional' })],
      ['identify throws', (c) => as(c, 'broken').get('/session')],
      ['identify garbage', (c) => as(c, 'garbage').get('/credentials')],
    ];
    const allowLast = () => testPassgate({ allowDeletingLastCredential: true });
    const [fromExpress, fromNest, fromNestFastify, fromFastify] = await Promise.all([
      expressApp(allowLast()).then((a) => run(a.url, steps)),
      nestApp(allowLast()).then((a) => run(a.url, steps)),
      nestFastifyApp(allowLast()).then((a) => run(a.url, steps)),
      fastifyApp(allowLast()).then((a) => run(a.url, steps)),
    ]);
    for (const [name] of steps) {
      expect({ step: name, ...(fromFastify.outcome[name] as object) }).toEqual({
        step: name,
        ...(fromExpress.outcome[name] as object),
      });
      expect({ step: name, ...(fromNest.exact[name] as object) }).toEqual({
        step: name,
        ...(fromExpress.exact[name] as object),
      });
      expect({ step: name, ...(fromNestFastify.outcome[name] as object) }).toEqual({
        step: name,
        ...(fromExpress.outcome[name] as object),
      });
    }
    expect((fromNest.exact['conditional verify without UP'] as { status: number }).status).toBe(200);
    expect((fromNest.exact['session elsewhere'] as { status: number }).status).toBe(200);
    expect((fromNest.exact['app deletes its only passkey'] as { status: number }).status).toBe(200);
    expect((fromNest.exact['session elsewhere after the delete'] as { status: number }).status).toBe(401);
    expect((fromNest.exact['conditional signed out'] as { status: number }).status).toBe(401);
    expect((fromNest.exact['identify throws'] as { status: number }).status).toBe(500);
  });

  it('the same 429 with Retry-After from the per-IP limit', async () => {
    const limited = () =>
      testPassgate({ rateLimits: { perIp: { points: 2, durationSeconds: 60 }, accountFailures: false } });
    const steps: [string, Step][] = [1, 2, 3].map((n) => [
      `login options ${n}`,
      (c) => c.post('/login/options', {}),
    ]);
    const [fromExpress, fromNest, fromNestFastify, fromFetch, fromFastify] = await Promise.all([
      expressApp(limited()).then((app) => run(app.url, steps)),
      nestApp(limited()).then((app) => run(app.url, steps)),
      nestFastifyApp(limited()).then((app) => run(app.url, steps)),
      fetchApp(limited()).then((app) => run(app.url, steps)),
      fastifyApp(limited()).then((app) => run(app.url, steps)),
    ]);
    expect(fromFastify.exact).toEqual(fromExpress.exact);
    expect(fromNest.exact).toEqual(fromExpress.exact);
    expect(fromNestFastify.exact).toEqual(fromExpress.exact);
    expect(fromFetch.exact).toEqual(fromExpress.exact);
    expect((fromNest.exact['login options 3'] as { status: number }).status).toBe(429);
  });
});
