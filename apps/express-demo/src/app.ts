/**
 * An existing-app-shaped Express 5 app with passkeys added: a home page, a protected account page,
 * a small JSON API, the passkey router at /passkeys and the shared browser page.
 */

import {
  type DemoBackend,
  demoMiddleware,
  demoRoutesTail,
  type ResolvedDemoConfig,
  SESSION_COOKIE_NAME,
} from '@passgate/demo-server';
import { loadPage } from '@passgate/demo-web';
import { createPasskeyRouter, requireSignIn } from '@passgate/express';
import express, { type Express, type Response } from 'express';

export function createDemoApp(config: ResolvedDemoConfig, backend: DemoBackend): Express {
  const app = express();
  app.disable('x-powered-by');

  const page = loadPage();
  const sendPage = (res: Response) => {
    res.set(page.headers).send(page.html);
  };

  app.use(demoMiddleware(config, backend));

  // The passkey routes at /passkeys; also sets req.passkey on every request below.
  app.use(createPasskeyRouter({ passgate: backend.passgate, sessionCookieName: SESSION_COOKIE_NAME }));

  app.get('/', (_req, res) => sendPage(res));

  // The protected page: signed-out browsers go home, API clients get the contract's 401.
  app.get('/account', (req, res) => {
    if (req.passkey) {
      sendPage(res);
      return;
    }
    if (req.accepts(['html', 'json']) === 'html') {
      res.redirect(303, '/');
      return;
    }
    res.status(401).json({ error: { code: 'unauthenticated', message: 'You are not signed in.' } });
  });

  // The app's own API, guarded by the sign-in.
  app.get('/api/me', requireSignIn(), async (req, res) => {
    const account = await backend.passgate.getAccount(req.passkey ?? null);
    res.json({ id: account.userId, name: account.username, displayName: account.displayName });
  });

  // /healthz, 404 for the rest, and the contract's error answers: the demos' shared tail.
  app.use(demoRoutesTail(config));
  return app;
}
