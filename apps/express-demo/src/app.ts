/**
 * An existing-app-shaped Express 5 app with passkeys added: a home page, a protected account page,
 * a small JSON API, the passkey router at /passkeys and the shared browser page.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  indexHtml,
  publicDir,
  simplewebauthnBrowserDir,
  simplewebauthnBrowserPath,
} from '@passgate/demo-web';
import { createPasskeyRouter, passkeyErrorHandler, requireSignIn } from '@passgate/express';
import express, { type Express, type Response } from 'express';
import session from 'express-session';
import type { DemoBackend } from './backend.js';
import type { ResolvedDemoConfig } from './config.js';

export const SESSION_COOKIE_NAME = 'passgate_demo.sid';

/** A Content-Security-Policy for the page, allowing its one inline script (the import map) by hash. */
function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export function createDemoApp(config: ResolvedDemoConfig, backend: DemoBackend): Express {
  const app = express();
  app.disable('x-powered-by');

  const html = readFileSync(indexHtml, 'utf8');
  const csp = contentSecurityPolicy(html);
  const sendPage = (res: Response) => {
    res.set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
    res.send(html);
  };

  // Static files first: they need no session.
  app.use(
    simplewebauthnBrowserPath,
    express.static(simplewebauthnBrowserDir, { index: false, maxAge: '1h' }),
  );
  app.use(express.static(publicDir, { index: false }));

  app.use(
    session({
      name: SESSION_COOKIE_NAME,
      secret: config.sessionSecret,
      store: backend.sessionStore,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.origin.startsWith('https:'),
        maxAge: 8 * 60 * 60 * 1000,
      },
    }),
  );

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

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, store: config.store });
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  app.use(passkeyErrorHandler());
  return app;
}
