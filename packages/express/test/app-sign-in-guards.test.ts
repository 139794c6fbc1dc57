import { SoftwareAuthenticator } from '@passgate/testing';
import { SimulatedApplication } from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter, requireRecentAuthentication, requireSignIn } from '../src/index.js';
import { ContractClient, listen, makePassgate, ORIGIN, SESSION_SECRET, signIn } from './helpers.js';

describe("the guards accept the application's own sign-in and refuse a session whose passkey is gone", () => {
  const now = Date.now();
  const passgate = makePassgate({ now: () => now, signUp: false });
  const application = new SimulatedApplication(() => now);
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(
      createPasskeyRouter({
        passgate,
        identify: application.identify,
        onPasskeySignIn: application.onPasskeySignIn,
      }),
    );
    app.get('/private', requireSignIn(), (req, res) => {
      res.json({ userId: req.passkey?.userId });
    });
    app.post('/sensitive', requireRecentAuthentication(), (_req, res) => {
      res.json({ ok: true });
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  it("requireSignIn and requireRecentAuthentication take the app's user and its sign-in time", async () => {
    const client = new ContractClient(server.url);
    const user = SimulatedApplication.newUser();
    application.signInAs(client, user, 1000);
    expect((await client.request('GET', '/private')).body).toEqual({ userId: user.userId });
    expect((await client.request('POST', '/sensitive', { json: {} })).status).toBe(200);
    application.signInAs(client, user, 10 * 60_000);
    const stale = await client.request('POST', '/sensitive', { json: {} });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('reauthentication_required');
  });

  it('a passkey session on an app route: 401 once its passkey is revoked', async () => {
    const laptop = new ContractClient(server.url);
    const user = SimulatedApplication.newUser();
    application.signInAs(laptop, user);
    const authenticator = new SoftwareAuthenticator();
    const options = await laptop.post('/register/options', {});
    const response = await authenticator.createCredential(options.body, { origin: ORIGIN });
    expect((await laptop.post('/register/verify', response)).status).toBe(200);
    const phone = new ContractClient(server.url);
    expect((await signIn(phone, authenticator)).status).toBe(200);
    expect((await phone.request('GET', '/private')).body).toEqual({ userId: user.userId });
    await passgate.revokeCredential(user.userId, response.id);
    const after = await phone.request('GET', '/private');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
  });
});
