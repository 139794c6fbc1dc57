import type { Passgate, PasskeySession } from '@passgate/core';
import type { Request, Response } from 'express';
import type { ApplicationSignInOptions } from './sign-in.js';

/**
 * Session hooks for apps that keep sign-ins themselves (their own session store, a JWT cookie, ...).
 * Each may be async. Errors thrown here answer `500 internal_error` on the passkey routes.
 */
export interface PasskeySessionHooks {
  /**
   * The current passkey sign-in, or `null`. Called on every request that passes through the router
   * (it sets `req.passkey`), so keep it cheap. Optional with `identify` (a JWT app returns the
   * passkey in its `identify` answer instead); default: nobody.
   */
  getSignedInUser?(req: Request): PasskeySession | null | Promise<PasskeySession | null>;
  /**
   * A passkey sign-in (or sign-up) succeeded: persist `session`. Runs before the response is written,
   * so it may set cookies or headers on `res`; it must not send a body. Rotate any session identifier
   * here (no fixation).
   */
  onSignIn(req: Request, res: Response, session: PasskeySession): void | Promise<void>;
  /** `POST /logout`: end the sign-in on the server (revoke, not just forget the cookie). Must not send a body. */
  onSignOut(req: Request, res: Response): void | Promise<void>;
}

export interface PasskeyRouterOptions extends ApplicationSignInOptions {
  /** The configured Passgate instance (`createPassgate(...)`); its rate limits and policy apply. Required. */
  passgate: Passgate;
  /**
   * Where the passkey routes live, as a full path from the app's root. Default `/passkeys`.
   * It is also the ceremony cookie's `Path`, which is why it is an option rather than a mount path:
   * mount the router with `app.use(router)`.
   */
  prefix?: string;
  /** Name of the ceremony cookie. Default `passgate_ceremony`. */
  cookieName?: string;
  /** Largest request body on the passkey routes, in bytes. Default 65536 (64 KiB, the contract's limit). */
  maxBodyBytes?: number;
  /**
   * When the ceremony cookie gets `Secure`. Default `'auto'`: when `req.protocol` is https (behind a
   * TLS-terminating proxy that needs Express's `trust proxy`; a warning is logged once when a
   * configured origin is https but a request is not). `true`: always; `false`: never (http development).
   */
  secureCookies?: 'auto' | boolean;
  /**
   * How sign-ins are kept. Default `'express-session'`: `req.session` (mount express-session before
   * the router); the sign-in is stored under `req.session.passgate` after `regenerate()`, and
   * `POST /logout` calls `destroy()` and clears the session cookie (ending a passport sign-in kept in
   * the same session too). Or hooks for apps with their own sessions or JWTs. Either works with
   * `identify` (the application's own sign-in).
   */
  session?: 'express-session' | PasskeySessionHooks;
  /**
   * Name of express-session's cookie, cleared on logout in `'express-session'` mode. Default
   * `connect.sid` (express-session's default); set it when you pass `name` to express-session.
   */
  sessionCookieName?: string;
}
