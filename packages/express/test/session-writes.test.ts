import { endpointSessions, pathBelow } from '@passgate/core/http';
import { SoftwareAuthenticator } from '@passgate/testing';
import express from 'express';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter } from '../src/index.js';
import { ContractClient, listen, makePassgate, SESSION_SECRET, signIn, signUp } from './helpers.js';

/** express-session's MemoryStore, counting what the router asks of it. */
class CountingStore extends session.MemoryStore {
  calls = { get: 0, set: 0, destroy: 0, touch: 0 };
  override get(sid: string, cb: Parameters<session.MemoryStore['get']>[1]) {
    this.calls.get += 1;
    super.get(sid, cb);
  }
  override set(sid: string, value: session.SessionData, cb?: (err?: unknown) => void) {
    this.calls.set += 1;
    super.set(sid, value, cb);
  }
  override destroy(sid: string, cb?: (err?: unknown) => void) {
    this.calls.destroy += 1;
    super.destroy(sid, cb);
  }
  override touch(sid: string, value: session.SessionData, cb?: () => void) {
    this.calls.touch += 1;
    super.touch(sid, value, cb);
  }
  reset() {
    this.calls = { get: 0, set: 0, destroy: 0, touch: 0 };
  }
  ids(): string[] {
    return Object.keys((this as unknown as { sessions: Record<string, string> }).sessions);
  }
}

describe('session writes per sign-in (express-session mode)', () => {
  const store = new CountingStore();
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store }));
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('a sign-in from a signed-out browser writes the session once and destroys nothing', async () => {
    const signUpClient = new ContractClient(server.url);
    const { authenticator } = await signUp(signUpClient);
    const client = new ContractClient(server.url);
    store.reset();
    const answer = await signIn(client, authenticator);
    expect(answer.status).toBe(200);
    expect(store.calls).toEqual({ get: 0, set: 1, destroy: 0, touch: 0 });
    expect(client.cookie('connect.sid')).toBeDefined();
  });

  it('a sign-in with an existing session cookie replaces that session: new id, old one removed', async () => {
    const client = new ContractClient(server.url);
    const { authenticator } = await signUp(client, new SoftwareAuthenticator());
    const before = client.cookie('connect.sid');
    const oldId = decodeURIComponent(before ?? '')
      .slice(2)
      .split('.')[0] as string;
    expect(store.ids()).toContain(oldId);
    store.reset();
    const answer = await signIn(client, authenticator);
    expect(answer.status).toBe(200);
    expect(store.calls.destroy).toBe(1);
    expect(store.calls.set).toBe(1);
    expect(client.cookie('connect.sid')).not.toBe(before);
    expect(store.ids()).not.toContain(oldId);
  });
});

describe('express-session left off POST /login/options (endpointSessions)', () => {
  const store = new CountingStore();
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    const withSession = session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store });
    app.use((req, res, next) => {
      const below = pathBelow('/passkeys', req.path);
      if (below !== undefined && endpointSessions(req.method, below) === 'none') next();
      else withSession(req, res, next);
    });
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('names login/options as the one endpoint that needs no session', () => {
    expect(endpointSessions('POST', '/login/options')).toBe('none');
    expect(endpointSessions('post', '/login/options/')).toBe('none');
    expect(endpointSessions('POST', '/login/verify')).toBe('keeps');
    expect(endpointSessions('POST', '/logout')).toBe('keeps');
    expect(endpointSessions('POST', '/register/options')).toBe('reads');
    expect(endpointSessions('GET', '/session')).toBe('reads');
    expect(endpointSessions('DELETE', '/credentials/AAAA')).toBe('reads');
    expect(endpointSessions('GET', '/login/options')).toBeNull();
  });

  it('sign-ins work, and login/options touches no session, signed in or not', async () => {
    const client = new ContractClient(server.url);
    const { authenticator } = await signUp(client);
    const signedIn = client.cookie('connect.sid');
    expect(signedIn).toBeDefined();
    store.reset();
    const options = await client.post('/login/options', {});
    expect(options.status).toBe(200);
    expect(options.setCookies.some((c) => c.startsWith('connect.sid='))).toBe(false);
    expect(store.calls).toEqual({ get: 0, set: 0, destroy: 0, touch: 0 });
    // Still signed in, and a new sign-in replaces the session as before.
    expect((await client.get('/session')).status).toBe(200);
    const answer = await signIn(client, authenticator);
    expect(answer.status).toBe(200);
    expect(client.cookie('connect.sid')).not.toBe(signedIn);
    expect((await client.get('/session')).status).toBe(200);
  });
});
