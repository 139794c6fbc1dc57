import { SoftwareAuthenticator } from '@passgate/testing';
import {
  expectError,
  ContractClient as KitClient,
  signIn as kitSignIn,
  signUp as kitSignUp,
  uniqueUsername,
} from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter } from '../src/index.js';
import { listen, makePassgate, ORIGIN, SESSION_SECRET } from './helpers.js';

// createPasskeyRouter is one middleware function (not an express.Router, whose extra dispatch cost
// every request about a tenth of a sign-in's CPU): mounting it under a path and handing errors to
// the app must behave as a router's did.
describe('createPasskeyRouter mounted as middleware', () => {
  const passgate = makePassgate();
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    // Under a path: Express trims `/auth` and sets req.baseUrl; the prefix is the full path.
    app.use('/auth', createPasskeyRouter({ passgate, prefix: '/auth/passkeys' }));
    app.get('/auth/whoami', (req, res) => {
      res.json({ userId: req.passkey?.userId ?? null });
    });
    app.use((_req, res) => {
      res.status(404).json({ app: 'not found' });
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('serves the contract below the mount path and sets req.passkey for the routes after it', async () => {
    const client = new KitClient(server.url, { origin: ORIGIN, prefix: '/auth/passkeys' });
    const { answer } = await kitSignUp(client, {
      authenticator: new SoftwareAuthenticator(),
      username: uniqueUsername('mounted'),
    });
    expect(answer.status).toBe(200);
    const whoami = await client.request('GET', '/auth/whoami');
    expect(whoami.body).toEqual({ userId: answer.body.user.id });
  });

  it('passes other paths on to the app (its 404), and the contract path only below the mount', async () => {
    const client = new KitClient(server.url, { origin: ORIGIN });
    expect((await client.request('POST', '/passkeys/login/options', { json: {} })).body).toEqual({
      app: 'not found',
    });
    expect((await client.request('GET', '/auth/elsewhere')).body).toEqual({ app: 'not found' });
  });
});

describe("createPasskeyRouter with prefix '/'", () => {
  const passgate = makePassgate();
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate, prefix: '/' }));
    app.use(express.json());
    app.get('/account', (req, res) => {
      res.json({ userId: req.passkey?.userId ?? null });
    });
    app.get('/loginX', (_req, res) => {
      res.json({ app: 'loginX' });
    });
    app.get('/admin/session', (_req, res) => {
      res.json({ app: 'admin/session' });
    });
    app.post('/echo', (req, res) => {
      res.json({ body: req.body });
    });
    app.use((_req, res) => {
      res.status(404).json({ app: 'not found' });
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('serves the contract at the site root, /credentials/:id included', async () => {
    const client = new KitClient(server.url, { origin: ORIGIN, prefix: '' });
    const options = await client.post('/login/options', {});
    expect({ status: options.status, cookies: options.setCookies }).toEqual({
      status: 200,
      cookies: [expect.stringContaining('; Path=/; ')],
    });
    const { answer, credentialId } = await kitSignUp(client, { username: uniqueUsername('root') });
    expect((await client.request('GET', '/account')).body).toEqual({ userId: answer.body.user.id });
    const renamed = await client.patch(`/credentials/${credentialId}`, { nickname: 'Laptop' });
    expect([renamed.status, renamed.body.nickname]).toEqual([200, 'Laptop']);
    expectError(await client.delete('/credentials/%ZZ'), 404, 'not_found');
  });

  it("leaves every other path to the app, with the app's body parser", async () => {
    const client = new KitClient(server.url, { origin: ORIGIN, prefix: '' });
    expect((await client.request('GET', '/loginX')).body).toEqual({ app: 'loginX' });
    expect((await client.request('GET', '/admin/session')).body).toEqual({ app: 'admin/session' });
    expect((await client.request('POST', '/echo', { json: { hello: 'world' } })).body).toEqual({
      body: { hello: 'world' },
    });
    expect((await client.request('POST', '/login/options/x', { json: {} })).body).toEqual({
      app: 'not found',
    });
  });
});

describe('createPasskeyRouter errors', () => {
  it('an error on an app route (a throwing session hook) goes to the app error handler', async () => {
    const passgate = makePassgate();
    const app = express();
    app.use(
      createPasskeyRouter({
        passgate,
        session: {
          getSignedInUser: () => {
            throw new Error('hook failed');
          },
          onSignIn() {},
          onSignOut() {},
        },
      }),
    );
    app.get('/page', (_req, res) => {
      res.json({ reached: true });
    });
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(599).json({ appHandler: error.message });
    });
    const server = await listen(app);
    try {
      const client = new KitClient(server.url, { origin: ORIGIN });
      const page = await client.request('GET', '/page');
      expect(page.status).toBe(599);
      expect(page.body).toEqual({ appHandler: 'hook failed' });
      // On a passkey route the same failure is the contract's 500 body, not the app's handler.
      const passkeys = await client.request('GET', '/passkeys/session');
      expect(passkeys.status).toBe(500);
      expect(passkeys.body).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
    } finally {
      await server.close();
    }
  });
});

describe('express-session rotation at sign-in', () => {
  it('a sign-in that brings the session cookie (not first in the header) removes that session from the store', async () => {
    const store = new session.MemoryStore();
    const passgate = makePassgate();
    const app = express();
    app.use(session({ store, secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate }));
    const server = await listen(app);
    const ids = () =>
      new Promise<string[]>((resolve, reject) =>
        store.all((error, all) => (error ? reject(error) : resolve(Object.keys(all ?? {})))),
      );
    try {
      const client = new KitClient(server.url, { origin: ORIGIN });
      const authenticator = new SoftwareAuthenticator();
      await kitSignUp(client, { authenticator, username: uniqueUsername('rotation') });
      const first = await ids();
      expect(first).toHaveLength(1);
      // Other cookies before it, as a browser sends them.
      const kept = [...client.jar];
      client.jar.clear();
      client.jar.set('theme', 'dark');
      for (const [name, value] of kept) client.jar.set(name, value);
      const signedIn = await kitSignIn(client, authenticator);
      expect(signedIn.status).toBe(200);
      const second = await ids();
      expect(second).toHaveLength(1);
      expect(second[0]).not.toBe(first[0]);
    } finally {
      await server.close();
    }
  });
});
