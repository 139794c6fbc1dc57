/**
 * An Express app that already has password accounts (passport-local, express-session) and adds
 * passkeys for those users: Passgate's `identify` reads passport's `req.user`, and `onPasskeySignIn`
 * signs the passkey's user in with passport's `req.login`. The app keeps its users; Passgate keeps
 * only the link from the user id to a random user handle, and the passkeys.
 */
import { fileURLToPath } from 'node:url';
import { consoleLogger, type IdentifiedUser, type PassgateLogger, storeUnavailable } from '@passgate/core';
import {
  type DemoBackend,
  demoMiddleware,
  demoRoutesTail,
  type ResolvedDemoConfig,
} from '@passgate/demo-server';
import { loadPage } from '@passgate/demo-web';
import { createPasskeyRouter, requireSignIn } from '@passgate/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import './augment.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { type AppUser, emailProblem, normalizeEmail, type UserStore } from './users.js';

export const SESSION_COOKIE_NAME = 'acme_notes.sid';

/** The page's own static files (existing-users.js), served before the shared demo page's. */
export const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/** The page: its slots of the demos' shared layout (@passgate/demo-web's `renderPage`). */
export const pageFile = fileURLToPath(new URL('../page.html', import.meta.url));

/** The app's user as Passgate's `identify` reports it (null when nobody is signed in). */
export function identifyUser(req: Request): IdentifiedUser | null {
  const user = req.user;
  if (!user) return null;
  return {
    userId: user.id,
    name: user.email,
    displayName: user.displayName,
    // Always set at sign-in; 1 ("long ago") would only make the sensitive-action window ask again.
    authenticatedAt: req.session.signedInAt ?? 1,
  };
}

/**
 * passport's `req.login`, then when and how. A password sign-in regenerates the session (no
 * fixation); after a passkey sign-in Passgate has regenerated it already and keeps its record of
 * the passkey in it (`keepSessionInfo`), which is how deleting that passkey ends this session.
 */
function logIn(req: Request, user: AppUser, how: 'password' | 'passkey', at: number): Promise<void> {
  return new Promise((resolve, reject) => {
    req.login(user, { session: true, keepSessionInfo: how === 'passkey' }, (error?: unknown) => {
      if (error) {
        reject(error);
        return;
      }
      req.session.signedInAt = at;
      req.session.signedInWith = how;
      resolve();
    });
  });
}

interface PublicUser {
  id: string;
  email: string;
  displayName: string;
}

const publicUser = (user: AppUser): PublicUser => ({
  id: user.id,
  email: user.email,
  displayName: user.displayName,
});

function fail(res: Response, status: number, code: string, message: string, field?: string): void {
  res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
}

/**
 * CSRF defence for the app's own state-changing routes, as Passgate does for its own: a browser sends
 * `Origin` on every POST, and one other than the app's is refused.
 */
function sameOrigin(origin: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const sent = req.get('origin');
    if (sent !== undefined && sent !== origin) {
      fail(res, 403, 'forbidden_origin', 'This request came from another site.');
      return;
    }
    next();
  };
}

/**
 * The app's user store failed: answered `503 store_unavailable` (the error handler writes the
 * contract's body), logged with the message only, never the request's data.
 */
function userStoreFailed(logger: PassgateLogger, error: unknown): Error {
  logger.error('acme notes: the user store failed', { error: (error as Error).message });
  return storeUnavailable(error);
}

export function createExistingUsersApp(
  config: ResolvedDemoConfig,
  backend: DemoBackend,
  users: UserStore,
  /** Where the app's own failures are logged. Default core's console logger. */
  logger: PassgateLogger = consoleLogger,
): Express {
  const { passgate } = backend;
  const app = express();
  app.disable('x-powered-by');
  const page = loadPage(pageFile);
  const sendPage = (res: Response) => {
    res.set(page.headers).send(page.html);
  };

  // passport-local: email and password. One failure message for an unknown email and a wrong
  // password (and the same scrypt cost for both), so the form tells nobody who has an account.
  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password' }, (email, password, done) => {
      users.findByEmail(email).then(
        async (user) => {
          const ok = await verifyPassword(password, user?.passwordHash ?? null);
          done(null, ok && user ? user : false);
        },
        (error: unknown) => done(userStoreFailed(logger, error)),
      );
    }),
  );
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id: string, done) => {
    users.findById(id).then(
      (user) => done(null, user ?? false),
      (error: unknown) => done(userStoreFailed(logger, error)),
    );
  });

  // Static files (this page's, then the shared page's and the clients), then express-session.
  app.use(demoMiddleware(config, backend, { cookieName: SESSION_COOKIE_NAME, staticDirs: [publicDir] }));
  // passport reads the user from the session, where there is one: the demo middleware makes none on
  // `POST /passkeys/login/options`, which needs no sign-in (and passport would refuse to run without).
  const passportSession = passport.session();
  app.use((req, res, next) => {
    if (req.session) passportSession(req, res, next);
    else next();
  });

  // Passgate, told who the app has signed in; its routes at /passkeys. Sign-up through Passgate is
  // off (see server.ts): accounts are made here, with a password.
  app.use(
    createPasskeyRouter({
      passgate,
      sessionCookieName: SESSION_COOKIE_NAME,
      identify: identifyUser,
      onPasskeySignIn: async (req, _res, { user, session }) => {
        const account = await users.findById(user.id);
        // A link to a user the app no longer has: refuse (500) rather than sign anybody in.
        if (!account) throw new Error('a passkey signed in a user id the app does not know');
        await logIn(req, account, 'passkey', session.authenticatedAt);
      },
    }),
  );

  const api = express.Router();
  api.use(sameOrigin(config.origin), express.json({ limit: '8kb' }));

  api.post('/sign-up', async (req, res, next) => {
    const { email, password, displayName } = (req.body ?? {}) as Record<string, unknown>;
    const emailIssue = emailProblem(email);
    if (emailIssue) return fail(res, 400, 'invalid_request', emailIssue, 'email');
    const passwordIssue = passwordProblem(password);
    if (passwordIssue) return fail(res, 400, 'invalid_request', passwordIssue, 'password');
    const name = typeof displayName === 'string' ? displayName.trim() : '';
    if ([...name].length > 64)
      return fail(res, 400, 'invalid_request', 'Use at most 64 characters.', 'displayName');
    try {
      // The same per-IP bucket as Passgate's ceremonies: password guessing costs what passkey tries do.
      await passgate.consumeRequestLimit(req.ip);
    } catch (error) {
      return next(error);
    }
    let user: AppUser | null;
    try {
      const normalized = normalizeEmail(email as string);
      user = await users.create({
        email: normalized,
        displayName: name || normalized,
        passwordHash: await hashPassword(password as string),
      });
    } catch (error) {
      return next(userStoreFailed(logger, error));
    }
    if (!user)
      return fail(res, 409, 'email_taken', 'An account with this email exists. Sign in instead.', 'email');
    try {
      await logIn(req, user, 'password', Date.now());
    } catch (error) {
      return next(error);
    }
    res.status(201).json({ user: publicUser(user) });
  });

  api.post('/sign-in', async (req, res, next) => {
    try {
      await passgate.consumeRequestLimit(req.ip);
    } catch (error) {
      return next(error);
    }
    passport.authenticate('local', { session: false }, async (error: unknown, user: AppUser | false) => {
      if (error) return next(error);
      if (!user)
        return fail(res, 401, 'invalid_credentials', 'That email and password do not match an account.');
      try {
        await logIn(req, user, 'password', Date.now());
      } catch (loginError) {
        return next(loginError);
      }
      res.json({ user: publicUser(user) });
    })(req, res, next);
  });

  // Who is signed in, however (password or passkey): the guard accepts the app's own sign-in.
  api.get('/me', requireSignIn(), (req, res) => {
    const user = req.user;
    if (!user) return fail(res, 401, 'unauthenticated', 'You are not signed in.');
    res.json({ user: publicUser(user), signedInWith: req.session.signedInWith ?? 'password' });
  });

  app.use('/api', api);

  app.get('/', (_req, res) => sendPage(res));

  // The account page: signed-out browsers go home (a session ended by a deleted passkey included).
  app.get('/account', (req, res) => {
    if (req.passkey) sendPage(res);
    else res.redirect(303, '/');
  });

  // /healthz, 404 for the rest, and the contract's error answers: the demos' shared tail.
  app.use(demoRoutesTail(config));
  return app;
}
