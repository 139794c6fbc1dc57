import { createMemoryStores, silentLogger } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import express from 'express';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter, requireRecentAuthentication, requireSignIn } from '../src/index.js';
import { ContractClient, listen, makePassgate, SESSION_SECRET, signIn, signUp } from './helpers.js';

describe('req.passkey and the guards on app routes', () => {
  let now = Date.now();
  const passgate = makePassgate({ now: () => now, reauthenticationWindowSeconds: 120 });
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.get('/before', (req, res) => {
      res.json({ passkey: req.passkey === undefined ? 'undefined' : req.passkey });
    });
    app.use(createPasskeyRouter({ passgate }));
    app.get('/whoami', (req, res) => {
      res.json({ passkey: req.passkey });
    });
    app.get('/private', requireSignIn(), (req, res) => {
      res.json({ userId: req.passkey?.userId });
    });
    app.post('/sensitive', requireRecentAuthentication(), (_req, res) => {
      res.json({ ok: true });
    });
    app.post(
      '/very-sensitive',
      requireRecentAuthentication({ maxAgeSeconds: 30, userVerified: true }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('req.passkey is null without a sign-in, the PasskeySession with one, unset before the router', async () => {
    const client = new ContractClient(server.url);
    expect((await client.request('GET', '/whoami')).body).toEqual({ passkey: null });
    const { body } = await signUp(client);
    const whoami = await client.request('GET', '/whoami');
    expect(whoami.body.passkey).toMatchObject({
      userId: body.user.id,
      credentialId: body.credential.id,
      userVerified: true,
      authenticatedAt: now,
    });
    expect(typeof whoami.body.passkey.userHandle).toBe('string');
    expect((await client.request('GET', '/before')).body).toEqual({ passkey: 'undefined' });
  });

  it('requireSignIn: 401 unauthenticated (contract body) without a sign-in, through with one', async () => {
    const client = new ContractClient(server.url);
    const denied = await client.request('GET', '/private');
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    expect(denied.headers.get('cache-control')).toBe('no-store');
    const { body } = await signUp(client);
    const allowed = await client.request('GET', '/private');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ userId: body.user.id });
  });

  it('requireRecentAuthentication: the instance window by default; 401 reauthentication_required when older', async () => {
    const client = new ContractClient(server.url);
    expect((await client.request('POST', '/sensitive')).body.error.code).toBe('unauthenticated');
    const { authenticator } = await signUp(client);
    expect((await client.request('POST', '/sensitive')).status).toBe(200);
    now += 121_000;
    const stale = await client.request('POST', '/sensitive');
    expect(stale.status).toBe(401);
    expect(stale.body).toEqual({ error: { code: 'reauthentication_required', message: expect.any(String) } });
    expect((await signIn(client, authenticator)).status).toBe(200);
    expect((await client.request('POST', '/sensitive')).status).toBe(200);
  });

  it('requireRecentAuthentication({ maxAgeSeconds, userVerified }): needs a recent, user-verified sign-in', async () => {
    const client = new ContractClient(server.url);
    const authenticator = new SoftwareAuthenticator();
    await signUp(client, authenticator);
    expect((await client.request('POST', '/very-sensitive')).status).toBe(200);
    now += 31_000;
    expect((await client.request('POST', '/very-sensitive')).body.error.code).toBe(
      'reauthentication_required',
    );
    // A sign-in without user verification (presence only) is recent but not enough.
    authenticator.setUserVerification(false);
    expect((await signIn(client, authenticator)).status).toBe(200);
    expect((await client.request('GET', '/whoami')).body.passkey.userVerified).toBe(false);
    const noUv = await client.request('POST', '/very-sensitive');
    expect(noUv.status).toBe(401);
    expect(noUv.body.error.code).toBe('reauthentication_required');
    expect((await client.request('POST', '/sensitive')).status).toBe(200);
    authenticator.setUserVerification(true);
    expect((await signIn(client, authenticator)).status).toBe(200);
    expect((await client.request('POST', '/very-sensitive')).status).toBe(200);
  });
});

describe('options: prefix, cookie name, express-session cookie name, https', () => {
  it('serves the contract under a custom prefix with the ceremony cookie scoped to it', async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(session({ name: 'sid', secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(
      createPasskeyRouter({
        passgate: makePassgate(),
        prefix: '/auth/passkeys/',
        cookieName: 'pk_ceremony',
        sessionCookieName: 'sid',
      }),
    );
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const options = await client.request('POST', '/auth/passkeys/login/options', {
        json: {},
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(options.status).toBe(200);
      const cookie = options.setCookies.find((c) => c.startsWith('pk_ceremony='));
      expect(cookie).toMatch(/Path=\/auth\/passkeys;/);
      expect(cookie).toMatch(/; Secure/); // https as Express's trust proxy resolves it
      expect((await client.request('POST', '/passkeys/login/options', { json: {} })).status).toBe(404);

      // Logout destroys the session and clears express-session's cookie under its configured name.
      const signedUp = await client.request('POST', '/auth/passkeys/register/options', {
        json: { username: 'prefix-user' },
      });
      expect(signedUp.status).toBe(200);
      const logout = await client.request('POST', '/auth/passkeys/logout');
      expect(logout.status).toBe(204);
    } finally {
      await server.close();
    }
  });

  it('logout clears the express-session cookie', async () => {
    const app = express();
    app.use(session({ name: 'sid', secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate: makePassgate(), sessionCookieName: 'sid' }));
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      await signUp(client);
      expect(client.cookie('sid')).toBeDefined();
      const logout = await client.post('/logout');
      expect(logout.status).toBe(204);
      expect(logout.setCookies.some((c) => /^sid=;.*Expires=Thu, 01 Jan 1970/.test(c))).toBe(true);
      expect(client.cookie('sid')).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('without express-session (and no hooks) every passkey route that reads or keeps a sign-in fails closed before writing anything', async () => {
    const logged: string[] = [];
    const stores = createMemoryStores();
    const logger = {
      ...silentLogger,
      error: (_message: string, fields?: Record<string, unknown>) => {
        logged.push(String(fields?.['error']));
      },
    };
    const app = express();
    app.use(createPasskeyRouter({ passgate: makePassgate({ stores, logger }) }));
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const options = await client.post('/register/options', { username: 'alice' });
      expect(options.status).toBe(500);
      expect(options.body).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
      // Before its body is even read: a sign-in could not be kept.
      expect((await client.post('/login/verify', {})).status).toBe(500);
      expect((await client.post('/logout', {})).status).toBe(500);
      // login/options neither reads nor keeps one: it needs no session (an app may leave its session
      // middleware off that path).
      expect((await client.post('/login/options', {})).status).toBe(200);
      // Nothing was started or written, and the log says what to do.
      expect(await stores.accounts.findByUsername('alice')).toBeNull();
      expect(logged.some((m) => /mount express-session before the passkey routes/.test(m))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses to start without a passgate', () => {
    expect(() => createPasskeyRouter({} as never)).toThrow(/passgate/);
  });
});
