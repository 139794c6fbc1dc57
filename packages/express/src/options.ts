import type { Passgate } from '@passgate/core';
import type { PasskeySessionHooks as NodeSessionHooks, PasskeyHttpOptions } from '@passgate/core/node';
import type { Request, Response } from 'express';

/**
 * Session hooks for apps that keep sign-ins themselves (their own session store, a JWT cookie, ...),
 * on Express's request and response. Each may be async. Errors thrown here answer
 * `500 internal_error` on the passkey routes.
 */
export type PasskeySessionHooks = NodeSessionHooks<Request, Response>;

/**
 * The options every integration takes (`PasskeyHttpOptions` of `@passgate/core/node`: prefix,
 * cookies, body limit, sessions, the application's own sign-in) and the Passgate instance. The
 * prefix is an option rather than a mount path because it is also the ceremony cookie's `Path`:
 * mount the router with `app.use(router)`. `secureCookies: 'auto'` follows `req.protocol`, so behind
 * a TLS-terminating proxy set Express's `trust proxy`.
 */
export interface PasskeyRouterOptions extends PasskeyHttpOptions<Request, Response> {
  /** The configured Passgate instance (`createPassgate(...)`); its rate limits and policy apply. Required. */
  passgate: Passgate;
}
