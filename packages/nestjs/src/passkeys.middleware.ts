import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Passgate } from '@passgate/core';
import { type ContractHandler, DEFAULT_PREFIX, normalizePrefix } from '@passgate/core/http';
import { nodeWriter, serveContract, serveWellKnown } from '@passgate/core/node';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { runDeferredBodyParsers } from './body-parser.js';
import { contractHandlers } from './handlers.js';
import { locateMount, requestPath } from './http.js';
import { PASSGATE, PASSKEY_SESSIONS } from './passkeys.constants.js';
import { PASSKEYS_MODULE_OPTIONS } from './passkeys.module-definition.js';
import type { PasskeysModuleOptions } from './passkeys.options.js';
import { type PasskeySessions, resolveSession } from './session.js';

/**
 * Serves the whole HTTP contract below the prefix: builds a `ContractRequest` from the Express
 * request, lets `@passgate/core/http` decide everything (routing, check order, ceremony cookie,
 * error bodies), applies the session action, and writes the `ContractResponse` verbatim. No
 * contract logic of its own, so it answers exactly as `@passgate/express` does.
 *
 * It is Nest middleware rather than a `@Controller()` because the prefix is an option (known only
 * after `forRootAsync`'s factory ran), and because the app's guards (a global `PasskeysGuard`),
 * pipes and interceptors must not stand between a signed-out browser and the sign-in routes.
 * Requests below the prefix that are not contract routes go on (`next()`, Nest's 404).
 */
@Injectable()
export class PasskeysContractMiddleware implements NestMiddleware {
  private readonly prefix: string;
  private readonly handlerFor: (mount: string) => ContractHandler;

  constructor(
    @Inject(PASSGATE) private readonly passgate: Passgate,
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
    @Inject(PASSKEYS_MODULE_OPTIONS) options: PasskeysModuleOptions,
  ) {
    this.prefix = normalizePrefix(options.prefix ?? DEFAULT_PREFIX);
    this.handlerFor = contractHandlers(passgate, options);
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const located = locateMount(this.prefix, req);
    if (!located) {
      next();
      return;
    }
    try {
      // A throwing session hook or store is answered with the contract's body, never Nest's or a stack.
      const served = await serveContract(this.passgate, this.handlerFor(located.mount), this.sessions, {
        raw: req,
        req,
        res,
        below: located.below,
        info: { protocol: req.protocol === 'https' ? 'https' : 'http', ip: req.ip, parsedBody: req.body },
        write: nodeWriter(res),
        sent: () => res.headersSent,
      });
      if (!served) next();
    } catch (error) {
      next(error);
    }
  }
}

/**
 * Sets `req.passkey` (the sign-in, or `null`) on every request, as `@passgate/express`'s router does,
 * so `@PasskeySession()` and your own code can read it without a guard. The module applies it after
 * `PasskeysContractMiddleware`, which answers the contract's routes first and resolves their sign-in
 * itself, after the request-shape checks; so every other route, whatever its path, gets it here.
 */
@Injectable()
export class PasskeysSessionMiddleware implements NestMiddleware {
  constructor(@Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      await runDeferredBodyParsers(req, res);
      await resolveSession(this.sessions, req, res);
      next();
    } catch (error) {
      next(error);
    }
  }
}

/**
 * `GET /.well-known/webauthn` (related origins, `rp.relatedOrigins`) at the site root, as
 * `@passgate/express` serves it: the answer comes from `@passgate/core/http`. Anything else, or no
 * related origins configured, goes on (Nest's 404). A plain Express handler mounted on the
 * underlying app, because Nest puts its global prefix in front of every middleware route and the
 * browsers look for this file at the root.
 */
export function wellKnownWebauthnHandler(passgate: Passgate): RequestHandler {
  return (req, res, next) => {
    if (!serveWellKnown(passgate, req, requestPath(req), req.ip, nodeWriter(res))) next();
  };
}
