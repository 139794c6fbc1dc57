import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SoftwareAuthenticator } from '@passgate/testing';
import {
  ContractClient,
  signIn as kitSignIn,
  signUp as kitSignUp,
  uniqueUsername,
} from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { createPasskeyRouter, expressServerOptions } from '../src/index.js';
import { makePassgate, ORIGIN, SESSION_SECRET } from './helpers.js';

describe('expressServerOptions', () => {
  it('requests arrive with the app’s own prototypes, and the whole passkey flow works on such a server', async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    app.get('/whoami', (req, res) => {
      res.json({ userId: req.passkey?.userId ?? null, path: req.path, app: req.app === app });
    });
    const server = http.createServer(expressServerOptions(app), app);
    const arrived: boolean[] = [];
    server.prependListener('request', (req, res) => {
      arrived.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const client = new ContractClient(`http://127.0.0.1:${port}`, { origin: ORIGIN });
      const authenticator = new SoftwareAuthenticator();
      const { answer } = await kitSignUp(client, { authenticator, username: uniqueUsername('proto') });
      expect((await kitSignIn(client, authenticator)).status).toBe(200);
      const whoami = await client.request('GET', '/whoami');
      expect(whoami.body).toEqual({ userId: answer.body.user.id, path: '/whoami', app: true });
      expect(arrived.length).toBeGreaterThanOrEqual(5);
      expect(arrived.every(Boolean)).toBe(true);
    } finally {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    }
  });
});
