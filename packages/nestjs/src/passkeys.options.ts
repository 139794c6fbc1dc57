import type { Passgate, PassgateOptions, PassgateStores } from '@passgate/core';
import type { PasskeySessionHooks as NodeSessionHooks, PasskeyHttpOptions } from '@passgate/core/node';

/**
 * Session hooks for apps that keep sign-ins themselves (their own session store, a JWT cookie, ...).
 * `req`/`res` are the platform's: Express's request and response, or Fastify's request and reply.
 * Each may be async. Errors thrown here answer `500 internal_error` on the passkey routes.
 *
 * `Req`/`Res` default to `any`, which fits either platform but checks nothing; name the platform's
 * types to have the hooks checked: `satisfies PasskeySessionHooks<Request, Response>` (express) or
 * `PasskeySessionHooks<FastifyRequest, FastifyReply>` (fastify).
 */
// biome-ignore lint/suspicious/noExplicitAny: the defaults fit either platform (Express or Fastify)
export type PasskeySessionHooks<Req = any, Res = any> = NodeSessionHooks<Req, Res>;

/**
 * How the HTTP side of the module behaves, whichever way the Passgate instance is given: the options
 * every integration takes (`PasskeyHttpOptions` of `@passgate/core/node`) and `controller`.
 *
 * `prefix`: Nest's global prefix (`app.setGlobalPrefix('api')`) is added in front, and the ceremony
 * cookie's `Path` is the full path (`/api/passkeys`). Routes of your own below it get their body from
 * Nest's parser only when the module's middleware runs (see the README's body-parser note).
 * `session: 'express-session'` (default) keeps sign-ins in `req.session`: express-session on
 * `@nestjs/platform-express`, @fastify/session on `@nestjs/platform-fastify`.
 * `identify` and `onPasskeySignIn` connect the application's own sign-in: see "Add passkeys to an
 * app that already has users" in the README.
 */
// biome-ignore lint/suspicious/noExplicitAny: the platform's request and response (Express or Fastify)
export interface PasskeysHttpOptions extends PasskeyHttpOptions<any, any> {
  /**
   * Serve the HTTP contract. Default true. `false`: only the service, guard and decorators (apps that
   * build their own endpoints on `PasskeysService`, or mount `PasskeysContractMiddleware` themselves).
   */
  controller?: boolean;
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
