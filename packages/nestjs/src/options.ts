import type { Passgate, PassgateOptions, PassgateStores } from '@passgate/core';
import type { ApplicationSignInOptions, PasskeySessionHooks } from '@passgate/express';

/**
 * Session hooks for apps that keep sign-ins themselves (their own session store, a JWT cookie, ...):
 * the very type of `@passgate/express`. Each may be async. Errors thrown here answer
 * `500 internal_error` on the passkey routes.
 */
export type { PasskeySessionHooks };

/**
 * How the HTTP side of the module behaves, whichever way the Passgate instance is given. `identify`
 * and `onPasskeySignIn` (from `@passgate/express`) connect the application's own sign-in: see
 * "Add passkeys to an app that already has users" in the README.
 */
export interface PasskeysHttpOptions extends ApplicationSignInOptions {
  /**
   * Where the contract's routes live, e.g. `/passkeys/login/options`. Default `/passkeys`. Nest's
   * global prefix (`app.setGlobalPrefix('api')`) is added in front, and the ceremony cookie's `Path`
   * is the full path (`/api/passkeys`). The prefix belongs to Passgate: routes of your own below it
   * get no body parsing from Nest (see the README's body-parser note).
   */
  prefix?: string;
  /** Name of the ceremony cookie. Default `passgate_ceremony`. */
  cookieName?: string;
  /** Largest request body on the passkey routes, in bytes. Default 65536 (64 KiB, the contract's limit). */
  maxBodyBytes?: number;
  /**
   * When the ceremony cookie gets `Secure`. Default `'auto'`: when the request came over https (behind a
   * TLS-terminating proxy that needs `trust proxy` on the Express adapter; a warning is logged once when
   * a configured origin is https but a request is not). `true`: always; `false`: never (http development).
   */
  secureCookies?: 'auto' | boolean;
  /**
   * Serve the HTTP contract. Default true. `false`: only the service, guard and decorators (apps that
   * build their own endpoints on `PasskeysService`, or mount `PasskeysContractMiddleware` themselves).
   */
  controller?: boolean;
  /**
   * How sign-ins are kept. Default `'express-session'`: `req.session` (`app.use(session(...))` before
   * `listen`); the sign-in is stored under `req.session.passgate` after `regenerate()`, and
   * `POST /logout` calls `destroy()` and clears the session cookie. Or hooks for apps with their own
   * sessions or JWTs.
   */
  session?: 'express-session' | PasskeySessionHooks;
  /**
   * Name of express-session's cookie, cleared on logout in `'express-session'` mode. Default
   * `connect.sid` (express-session's default); set it when you pass `name` to express-session.
   */
  sessionCookieName?: string;
}

/**
 * Passgate's own options, with `stores` optional: without it the stores come from the
 * `PASSGATE_STORES` injection token.
 */
export type PassgateConfig = Omit<PassgateOptions, 'stores'> & { stores?: PassgateStores };

/**
 * Options of `PasskeysModule.forRoot` / `forRootAsync`: a ready `passgate` instance, or the
 * Passgate options to build one from (stores from `stores` or the `PASSGATE_STORES` token), plus
 * the HTTP options.
 */
export type PasskeysModuleOptions = PasskeysHttpOptions & ({ passgate: Passgate } | PassgateConfig);

/** Extra options of `forRoot` / `forRootAsync` that shape the module itself. */
export interface PasskeysModuleExtras {
  /** Make the module's exports (service, guard, tokens) visible in every module. Default false. */
  isGlobal?: boolean;
}
