import type { PasskeySession } from '@passgate/core';
import type { Request, Response } from 'express';
import type { PasskeySessionHooks } from './options.js';

/** How the router reads and writes sign-ins, whatever the mode. */
export interface SessionAdapter {
  /**
   * Throws when sign-ins could not be kept (express-session not mounted). Called before a passkey
   * route runs, so a misconfigured app fails before anything is written, not after an account exists.
   */
  assertReady(req: Request): void;
  get(req: Request): Promise<PasskeySession | null>;
  signIn(req: Request, res: Response, session: PasskeySession): Promise<void>;
  signOut(req: Request, res: Response): Promise<void>;
  /**
   * Ends a sign-in whose passkey was deleted, in the middle of a request that goes on (signed out).
   * Default: `signOut`. express-session mode regenerates the session instead of destroying it, so the
   * rest of the request still has a (new, empty) `req.session`.
   */
  expire?(req: Request, res: Response): Promise<void>;
}

/** The part of express-session's `req.session` used here (typed structurally: no dependency on it). */
interface ExpressSessionLike {
  passgate?: unknown;
  cookie?: {
    path?: string;
    domain?: string;
    secure?: boolean | 'auto';
    sameSite?: unknown;
    httpOnly?: boolean;
  };
  regenerate(callback: (error?: unknown) => void): void;
  save(callback: (error?: unknown) => void): void;
  destroy(callback: (error?: unknown) => void): void;
}

const NO_SESSION =
  'A passkey sign-in needs a session: mount express-session before the passkey router, or pass session hooks.';

/** The key the sign-in is stored under in express-session. */
export const SESSION_KEY = 'passgate';

function expressSession(req: Request): ExpressSessionLike | undefined {
  const session = (req as { session?: unknown }).session;
  return session && typeof session === 'object' ? (session as ExpressSessionLike) : undefined;
}

function call(run: (callback: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/** A stored value is trusted only if it still has the shape of a `PasskeySession` (older versions, tampering with the store). */
export function asPasskeySession(value: unknown): PasskeySession | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (
    typeof v['userId'] !== 'string' ||
    typeof v['userHandle'] !== 'string' ||
    typeof v['credentialId'] !== 'string' ||
    typeof v['authenticatedAt'] !== 'number' ||
    typeof v['userVerified'] !== 'boolean'
  ) {
    return null;
  }
  return {
    userId: v['userId'],
    userHandle: v['userHandle'],
    credentialId: v['credentialId'],
    authenticatedAt: v['authenticatedAt'],
    userVerified: v['userVerified'],
  };
}

/** `req.sessionStore.generate(req)`: express-session's own "new session with a new id" (what regenerate() calls after destroying). */
function sessionGenerator(req: Request): ((req: Request) => void) | undefined {
  const store = (req as { sessionStore?: { generate?: unknown } }).sessionStore;
  return typeof store?.generate === 'function'
    ? (store.generate as (req: Request) => void).bind(store)
    : undefined;
}

/** Whether the request carried express-session's cookie (any value): only then can the store hold its session. */
function hasCookie(req: Request, name: string): boolean {
  const header = req.headers.cookie;
  if (!header) return false;
  return header.split(';').some((pair) => pair.trimStart().startsWith(`${name}=`));
}

/**
 * express-session mode. Sign-in gives the session a new id first (a session id known before the
 * sign-in, e.g. planted by an attacker, never becomes a signed-in one), then saves explicitly so the
 * store has the sign-in before the response reaches the browser: one store write per sign-in. When
 * the request brought a session cookie, `regenerate()` also removes the old session from the store;
 * without one, nothing can be stored under the old id, so the new session is made without that
 * store round trip.
 */
export function expressSessionAdapter(sessionCookieName: string): SessionAdapter {
  return {
    assertReady(req) {
      if (!expressSession(req)) throw new Error(NO_SESSION);
    },
    async get(req) {
      return asPasskeySession(expressSession(req)?.[SESSION_KEY]);
    },
    async signIn(req, _res, session) {
      const current = expressSession(req);
      if (!current) {
        throw new Error(NO_SESSION);
      }
      const generate = hasCookie(req, sessionCookieName) ? undefined : sessionGenerator(req);
      if (generate) generate(req);
      else await call((cb) => current.regenerate(cb));
      // regenerate() replaces req.session with a new object.
      const fresh = expressSession(req);
      if (!fresh) throw new Error('express-session did not create a new session.');
      fresh[SESSION_KEY] = session;
      await call((cb) => fresh.save(cb));
      // express-session's response hook cannot see a save made after regenerate()/generate() (only
      // sessions it made itself are tracked) and would write the same session a second time. It is
      // stored already: that second save becomes a no-op for this request's session object.
      Object.defineProperty(fresh, 'save', {
        configurable: true,
        writable: true,
        value: (callback?: (error?: unknown) => void) => {
          callback?.();
          return fresh;
        },
      });
    },
    async expire(req) {
      const current = expressSession(req);
      // regenerate() removes the old session from the store: its cookie signs no one in any more.
      if (current) await call((cb) => current.regenerate(cb));
    },
    async signOut(req, res) {
      const current = expressSession(req);
      if (!current) return;
      const cookie = current.cookie ?? {};
      await call((cb) => current.destroy(cb));
      res.clearCookie(sessionCookieName, {
        path: cookie.path ?? '/',
        ...(cookie.domain ? { domain: cookie.domain } : {}),
        httpOnly: cookie.httpOnly ?? true,
        ...(cookie.secure === true ? { secure: true } : {}),
      });
    },
  };
}

export function hooksAdapter(hooks: PasskeySessionHooks): SessionAdapter {
  return {
    assertReady() {},
    async get(req) {
      return (await hooks.getSignedInUser?.(req)) ?? null;
    },
    async signIn(req, res, session) {
      await hooks.onSignIn(req, res, session);
    },
    async signOut(req, res) {
      await hooks.onSignOut(req, res);
    },
  };
}
