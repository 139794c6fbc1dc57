import { createMemoryStores, storeUnavailable } from '@passgate/core';
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

/** The session id in a client's express-session cookie (`s:<id>.<signature>`). */
const sessionId = (client: ContractClient) =>
  decodeURIComponent(client.cookie('connect.sid') ?? '')
    .slice(2)
    .split('.')[0] as string;

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
    const oldId = sessionId(client);
    expect(store.ids()).toContain(oldId);
    store.reset();
    const answer = await signIn(client, authenticator);
    expect(answer.status).toBe(200);
    expect(store.calls.destroy).toBe(1);
    expect(store.calls.set).toBe(1);
    expect(client.cookie('connect.sid')).not.toBe(before);
    expect(store.ids()).not.toContain(oldId);
  });

  it('a session whose passkey is deleted elsewhere is removed from the store at its next request (regenerated)', async () => {
    // A phone signed in with the first passkey; a laptop adds a second one and deletes the first.
    const phone = new ContractClient(server.url);
    const { authenticator: phoneKey } = await signUp(phone);
    const laptop = new ContractClient(server.url);
    const laptopKey = new SoftwareAuthenticator();
    const options = await phone.post('/register/options', {});
    expect(options.status, options.text).toBe(200);
    const added = await phone.post(
      '/register/verify',
      await laptopKey.createCredential(options.body, { origin: phone.origin }),
    );
    expect(added.status, added.text).toBe(200);
    expect((await signIn(laptop, laptopKey)).status).toBe(200);
    expect((await signIn(phone, phoneKey)).status).toBe(200);
    const phoneSession = sessionId(phone);
    expect(store.ids()).toContain(phoneSession);
    const deleted = await laptop.delete(`/credentials/${phoneKey.credentials[0]?.id}`);
    expect(deleted.status, deleted.text).toBe(200);

    expect((await phone.get('/session')).status).toBe(401);
    // Gone from the store, with whatever else the application kept in it: the cookie names nothing.
    expect(store.ids()).not.toContain(phoneSession);
    // The laptop's session, made with the passkey still there, is left as it is.
    expect((await laptop.get('/session')).status).toBe(200);
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

/**
 * A sign-in from a browser without a session cookie writes its session while the credential's
 * counter update is in flight (one store wait instead of two in a row). It stands only if the update
 * does: when the update refuses or fails, the session written meanwhile is removed and no cookie for
 * it goes out. With a session cookie the old session is removed first, so that path stays in order.
 */
describe('a sign-in session written alongside the credential update', () => {
  const store = new CountingStore();
  const stores = createMemoryStores();
  const credentials = stores.credentials;
  const update = credentials.updateAfterSignIn.bind(credentials);
  /** What the next updateAfterSignIn does instead of the plain update (reset after each test). */
  let nextUpdate: typeof update | undefined;
  credentials.updateAfterSignIn = (u) => {
    const run = nextUpdate ?? update;
    nextUpdate = undefined;
    return run(u);
  };
  /** Fails the next session save with this error. */
  let failNextSave: Error | undefined;
  const set = store.set.bind(store);
  store.set = (sid, value, cb) => {
    const error = failNextSave;
    failNextSave = undefined;
    if (error) {
      store.calls.set += 1;
      cb?.(error);
      return;
    }
    set(sid, value, cb);
  };
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store }));
    app.use(createPasskeyRouter({ passgate: makePassgate({ stores }) }));
    server = await listen(app);
  });
  afterAll(() => server.close());

  const sessionCookie = (answer: { setCookies: string[] }) =>
    answer.setCookies.find((c) => c.startsWith('connect.sid='));

  async function signedUp() {
    const { authenticator } = await signUp(new ContractClient(server.url));
    return { authenticator, client: new ContractClient(server.url), before: store.ids() };
  }

  it('the session is saved before the credential update has finished', async () => {
    const { authenticator, client } = await signedUp();
    let saveStarted!: () => void;
    const saved = new Promise<void>((resolve) => {
      saveStarted = resolve;
    });
    const plainSet = store.set;
    store.set = (sid, value, cb) => {
      saveStarted();
      plainSet(sid, value, cb);
    };
    let overlapped = false;
    nextUpdate = async (u) => {
      // In order (save after update), the save never starts while this waits: give up after 2 s.
      overlapped = await Promise.race([
        saved.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
      ]);
      return update(u);
    };
    try {
      const answer = await signIn(client, authenticator);
      expect(answer.status, answer.text).toBe(200);
      expect(overlapped).toBe(true);
      expect(sessionCookie(answer)).toBeDefined();
      expect((await client.get('/session')).status).toBe(200);
    } finally {
      store.set = plainSet;
    }
  });

  it('an update that finds the counter moved (a clone race) removes the session and sends no cookie', async () => {
    const { authenticator, client, before } = await signedUp();
    // Another sign-in with the same counter gets there first: this compare-and-set then fails, the
    // fresh read shows the counter not increased, and the sign-in is refused as a possible clone.
    nextUpdate = async (u) => {
      await update(u);
      return update(u);
    };
    store.reset();
    const answer = await signIn(client, authenticator);
    expect(answer.status, answer.text).toBe(401);
    expect((answer.body as { error: { code: string } }).error.code).toBe('credential_cloned');
    expect(sessionCookie(answer)).toBeUndefined();
    expect(store.calls.set).toBe(1);
    expect(store.calls.destroy).toBe(1);
    expect(store.ids()).toEqual(before);
  });

  it('an update that fails (store outage) removes the session and sends no cookie', async () => {
    const { authenticator, client, before } = await signedUp();
    nextUpdate = async () => {
      throw storeUnavailable(new Error('credential store down'));
    };
    const answer = await signIn(client, authenticator);
    expect(answer.status, answer.text).toBe(503);
    expect(sessionCookie(answer)).toBeUndefined();
    expect(store.ids()).toEqual(before);
  });

  it('a session save that fails answers the error with no cookie for the unsaved session', async () => {
    const { authenticator, client, before } = await signedUp();
    failNextSave = storeUnavailable(new Error('session store down'));
    store.reset();
    const answer = await signIn(client, authenticator);
    expect(answer.status, answer.text).toBe(503);
    expect(sessionCookie(answer)).toBeUndefined();
    // express-session does not try the save again as the response ends.
    expect(store.calls.set).toBe(1);
    expect(store.ids()).toEqual(before);
  });

  it('a session save that fails while the update is still running is no unhandled rejection', async () => {
    const { authenticator, client, before } = await signedUp();
    let saveFailed!: () => void;
    const failed = new Promise<void>((resolve) => {
      saveFailed = resolve;
    });
    failNextSave = storeUnavailable(new Error('session store down'));
    const plainSet = store.set;
    store.set = (sid, value, cb) =>
      plainSet(sid, value, (error) => {
        cb?.(error);
        saveFailed();
      });
    nextUpdate = async (u) => {
      // The save's rejection settles first, and a turn of the event loop passes with nobody awaiting
      // it yet: Node reports such a rejection (and vitest fails the run) unless it is handled.
      await failed;
      await new Promise((resolve) => setImmediate(resolve));
      return update(u);
    };
    try {
      const answer = await signIn(client, authenticator);
      expect(answer.status, answer.text).toBe(503);
      expect(sessionCookie(answer)).toBeUndefined();
      expect(store.ids()).toEqual(before);
    } finally {
      store.set = plainSet;
    }
  });

  it('with a session cookie the old session is removed only after the sign-in stands', async () => {
    const client = new ContractClient(server.url);
    const { authenticator } = await signUp(client);
    const signedInCookie = client.cookie('connect.sid');
    const before = store.ids();
    nextUpdate = async (u) => {
      await update(u);
      return update(u);
    };
    store.reset();
    const refused = await signIn(client, authenticator);
    expect(refused.status, refused.text).toBe(401);
    // Refused: the browser's session is untouched, in the store and in its cookie.
    expect({ set: store.calls.set, destroy: store.calls.destroy }).toEqual({ set: 0, destroy: 0 });
    expect(store.ids()).toEqual(before);
    expect(sessionCookie(refused)).toBeUndefined();
    expect(client.cookie('connect.sid')).toBe(signedInCookie);
  });
});
