import { randomBytes } from 'node:crypto';
import type { PasskeySession } from '@passgate/core';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter, type PasskeySessionHooks, requireSignIn } from '../src/index.js';
import { ContractClient, listen, makePassgate, signIn, signUp } from './helpers.js';

/** An app with its own sessions: an opaque token cookie mapped to sign-ins (think JWT or a custom store). */
describe('session hooks (apps with their own sessions)', () => {
  const tokens = new Map<string, PasskeySession>();
  const calls: string[] = [];
  const readToken = (cookie: string | undefined) => /(?:^|;\s*)app_token=([^;]+)/.exec(cookie ?? '')?.[1];
  const hooks: PasskeySessionHooks = {
    getSignedInUser(req) {
      const token = readToken(req.headers.cookie);
      return (token && tokens.get(token)) || null;
    },
    async onSignIn(req, res, session) {
      calls.push(`signIn:${session.userId}`);
      const old = readToken(req.headers.cookie);
      if (old) tokens.delete(old); // rotate: no fixation
      const token = randomBytes(16).toString('base64url');
      tokens.set(token, session);
      res.cookie('app_token', token, { httpOnly: true, sameSite: 'lax', path: '/' });
    },
    onSignOut(req, res) {
      calls.push('signOut');
      const token = readToken(req.headers.cookie);
      if (token) tokens.delete(token);
      res.clearCookie('app_token', { path: '/' });
    },
  };
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const app = express();
    app.use(createPasskeyRouter({ passgate: makePassgate(), session: hooks }));
    app.get('/me', requireSignIn(), (req, res) => {
      res.json({ userId: req.passkey?.userId });
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('sign-up and sign-in call onSignIn with the PasskeySession; its cookie is sent along the contract cookie', async () => {
    const client = new ContractClient(server.url);
    const { authenticator, body, status } = await signUp(client);
    expect(status).toBe(200);
    expect(calls).toContain(`signIn:${body.user.id}`);
    const first = client.cookie('app_token');
    expect(first).toBeDefined();
    const [session] = [...tokens.values()].filter((s) => s.userId === body.user.id);
    expect(session).toMatchObject({
      userId: body.user.id,
      credentialId: body.credential.id,
      userVerified: true,
    });
    expect(typeof session?.authenticatedAt).toBe('number');

    const again = await signIn(client, authenticator);
    expect(again.status).toBe(200);
    // Both the ceremony cookie (cleared) and the hook's cookie arrive.
    expect(again.setCookies.some((c) => c.startsWith('passgate_ceremony='))).toBe(true);
    expect(again.setCookies.some((c) => c.startsWith('app_token='))).toBe(true);
    expect(client.cookie('app_token')).not.toBe(first);
  });

  it('getSignedInUser feeds GET /session, the protected endpoints and req.passkey', async () => {
    const client = new ContractClient(server.url);
    const { body } = await signUp(client);
    const session = await client.get('/session');
    expect(session.status).toBe(200);
    expect(session.body.user.id).toBe(body.user.id);
    expect((await client.get('/credentials')).body.credentials).toHaveLength(1);
    const me = await client.request('GET', '/me');
    expect(me.body).toEqual({ userId: body.user.id });
  });

  it('logout calls onSignOut (204), after which the token no longer signs in', async () => {
    const client = new ContractClient(server.url);
    await signUp(client);
    const token = client.cookie('app_token');
    const answer = await client.post('/logout');
    expect(answer.status).toBe(204);
    expect(calls.at(-1)).toBe('signOut');
    expect(tokens.has(token ?? '')).toBe(false);
    expect((await client.get('/session', { cookie: `app_token=${token}` })).status).toBe(401);
    expect((await client.request('GET', '/me', { cookie: `app_token=${token}` })).status).toBe(401);
  });
});

describe('hooks that throw', () => {
  it('answer 500 internal_error on the passkey routes and go to the app error handler elsewhere', async () => {
    const app = express();
    app.use(
      createPasskeyRouter({
        passgate: makePassgate(),
        session: {
          getSignedInUser() {
            throw new Error('token store down: secret details');
          },
          onSignIn() {},
          onSignOut() {},
        },
      }),
    );
    app.get('/app', (_req, res) => {
      res.send('unreachable');
    });
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(599).send('app handler');
    });
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const answer = await client.get('/session');
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
      expect(answer.text).not.toContain('secret');
      const other = await client.request('GET', '/app');
      expect(other.status).toBe(599);
      expect(other.text).toBe('app handler');
    } finally {
      await server.close();
    }
  });
});
