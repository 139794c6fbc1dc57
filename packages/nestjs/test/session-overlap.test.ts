import 'reflect-metadata';
import { createMemoryStores } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { signIn, signUp } from '@passgate/testing/contract';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasskeysModule } from '../src/index.js';
import { type Booted, boot, browser, SECRET, testPassgate } from './helpers.js';

/**
 * On Express, as with `@passgate/express`: a sign-in from a browser without a session cookie saves its
 * session while the credential's counter update is in flight, and a refused update undoes it.
 */
describe('PasskeysModule on Express: the sign-in session written alongside the credential update', () => {
  const store = new session.MemoryStore();
  const stores = createMemoryStores();
  const update = stores.credentials.updateAfterSignIn.bind(stores.credentials);
  let nextUpdate: typeof update | undefined;
  stores.credentials.updateAfterSignIn = (u) => {
    const run = nextUpdate ?? update;
    nextUpdate = undefined;
    return run(u);
  };
  let saveStarted: (() => void) | undefined;
  const set = store.set.bind(store);
  store.set = (sid, value, cb) => {
    saveStarted?.();
    set(sid, value, cb);
  };
  const sessionIds = () => Object.keys((store as unknown as { sessions: Record<string, string> }).sessions);
  let booted: Booted;
  beforeAll(async () => {
    booted = await boot(
      { imports: [PasskeysModule.forRoot({ passgate: testPassgate({ stores }) })] },
      {
        session: false,
        configure: (app) =>
          app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store })),
      },
    );
  });
  afterAll(() => booted.close());

  it('the session is saved before the update has finished', async () => {
    const authenticator = new SoftwareAuthenticator();
    await signUp(browser(booted.url), { authenticator });
    const saved = new Promise<void>((resolve) => {
      saveStarted = resolve;
    });
    let overlapped = false;
    nextUpdate = async (u) => {
      // In order (save after update), the save never starts while this waits: give up after 2 s.
      overlapped = await Promise.race([
        saved.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
      ]);
      return update(u);
    };
    const client = browser(booted.url);
    const answer = await signIn(client, authenticator);
    saveStarted = undefined;
    expect(answer.status, answer.text).toBe(200);
    expect(overlapped).toBe(true);
    expect((await client.get('/session')).status).toBe(200);
  });

  it('a refused update (clone race) leaves no session and sends no cookie', async () => {
    const authenticator = new SoftwareAuthenticator();
    await signUp(browser(booted.url), { authenticator });
    const before = sessionIds();
    nextUpdate = async (u) => {
      await update(u);
      return update(u);
    };
    const answer = await signIn(browser(booted.url), authenticator);
    expect(answer.status, answer.text).toBe(401);
    expect(answer.setCookies.some((c) => c.startsWith('connect.sid='))).toBe(false);
    expect(sessionIds()).toEqual(before);
  });
});
