/**
 * What every demo (Express, NestJS on Express, existing users) puts in front of its routes: the
 * shared page's static files and express-session with the backend's session store.
 */

import { pooledRandomBytes } from '@passgate/core';
import { endpointSessions, pathBelow } from '@passgate/core/http';
import {
  passgateBrowserDir,
  passgateBrowserPath,
  publicDir,
  simplewebauthnBrowserDir,
  simplewebauthnBrowserPath,
} from '@passgate/demo-web';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import type { DemoBackend } from './backend.js';
import type { ResolvedDemoConfig } from './config.js';

export const SESSION_COOKIE_NAME = 'passgate_demo.sid';

/** Where both demos mount the passkey routes (the routers' default prefix). */
const PASSKEY_PREFIX = '/passkeys';

export interface DemoMiddlewareOptions {
  /** express-session's cookie name. Default `SESSION_COOKIE_NAME`. */
  cookieName?: string;
  /** More folders of static files, served before the shared page's (another demo's own page). */
  staticDirs?: string[];
}

/**
 * What the demos (Express, NestJS, existing users) put in front of their routes: the page's static
 * files first (they need no session), then express-session with the backend's store, except on the
 * passkey endpoint that neither reads nor keeps a sign-in (`POST /passkeys/login/options`): a
 * sign-in storm's first request of each ceremony then loads, makes and checks no session at all.
 * One middleware function rather than an `express.Router()` of two: every nested router is another
 * dispatch on every request (the passkey POSTs included).
 */
export function demoMiddleware(
  config: ResolvedDemoConfig,
  backend: DemoBackend,
  options: DemoMiddlewareOptions = {},
): RequestHandler {
  const staticFiles = express.Router();
  // The page's client (@passgate/browser's built ES modules) and the library it imports.
  staticFiles.use(passgateBrowserPath, express.static(passgateBrowserDir, { index: false, maxAge: '1h' }));
  staticFiles.use(
    simplewebauthnBrowserPath,
    express.static(simplewebauthnBrowserDir, { index: false, maxAge: '1h' }),
  );
  for (const dir of options.staticDirs ?? []) staticFiles.use(express.static(dir, { index: false }));
  staticFiles.use(express.static(publicDir, { index: false }));
  const withSession = session({
    name: options.cookieName ?? SESSION_COOKIE_NAME,
    secret: config.sessionSecret,
    store: backend.sessionStore,
    resave: false,
    saveUninitialized: false,
    // Session ids (24 random bytes, as express-session's own) from Passgate's bulk random pool.
    genid: () => pooledRandomBytes(24).toString('base64url'),
    // A sign-in lasts 8 hours from when it happened (absolute, not sliding): the cookie is set at
    // sign-in, not re-signed and re-sent on every request, and the session stores are never
    // touched by later requests (backend.ts), so the server forgets it at the same time.
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.origin.startsWith('https:'),
      maxAge: 8 * 60 * 60 * 1000,
    },
  });
  const sessionUnlessNone: RequestHandler = (req, res, next) => {
    const below = pathBelow(PASSKEY_PREFIX, req.path);
    if (below !== undefined && endpointSessions(req.method, below) === 'none') next();
    else withSession(req, res, next);
  };
  return (req, res, next) => {
    // Static files answer GET and HEAD only: the passkey POSTs skip the three file lookups.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sessionUnlessNone(req, res, next);
      return;
    }
    staticFiles(req, res, (error?: unknown) => {
      if (error) next(error);
      else sessionUnlessNone(req, res, next);
    });
  };
}
