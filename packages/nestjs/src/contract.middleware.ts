import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Passgate } from '@passgate/core';
import {
  type ContractHandler,
  type ContractHandlerOptions,
  createContractHandler,
  errorResponse,
  wellKnownWebauthn,
} from '@passgate/core/http';
import { toContractRequest, writeContractResponse } from '@passgate/express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PASSGATE, PASSKEY_SESSIONS } from './constants.js';
import { locate, normalizePrefix, requestPath } from './http.js';
import { PASSKEYS_MODULE_OPTIONS } from './module-definition.js';
import type { PasskeysModuleOptions } from './options.js';
import { type PasskeySessions, resolveSession } from './session.js';

/**
 * Serves the whole HTTP contract below the prefix: builds a `ContractRequest` from the Express
 * request, lets `@passgate/core/http` decide everything (routing, check order, ceremony cookie,
 * error bodies), applies the session action, and writes the `ContractResponse` verbatim. No
 * contract logic of its own, so it answers exactly as `@passgate/express` does.
 *
 * It is Nest middleware rather than a `@Controller()` because the prefix is an option (known only
 * after `forRootAsync`'s factory ran), and because the app's guards (a global `PasskeyAuthGuard`),
 * pipes and interceptors must not stand between a signed-out browser and the sign-in routes.
 * Requests below the prefix that are not contract routes go on (`next()`, Nest's 404).
 */
@Injectable()
export class PasskeysContractMiddleware implements NestMiddleware {
  private readonly prefix: string;
  /** One contract handler per mount path: the ceremony cookie's `Path` is the full mount path. */
  private readonly handlers = new Map<string, ContractHandler>();

  constructor(
    @Inject(PASSGATE) private readonly passgate: Passgate,
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
    @Inject(PASSKEYS_MODULE_OPTIONS) private readonly options: PasskeysModuleOptions,
  ) {
    this.prefix = normalizePrefix(options.prefix ?? '/passkeys');
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const located = locate(this.prefix, requestPath(req));
    if (!located) {
      next();
      return;
    }
    try {
      this.sessions.assertReady(req);
      // Looked up by the handler after the request-shape checks (contract order), not here.
      const response = await this.handlerFor(located.mount).handle(
        toContractRequest(req, located.below, () => resolveSession(this.sessions, req, res)),
      );
      if (!response) {
        await resolveSession(this.sessions, req, res);
        next();
        return;
      }
      const action = response.sessionAction;
      if (action?.type === 'sign_in') {
        await this.sessions.signIn(req, res, action.session, action.user);
      } else if (action?.type === 'sign_out') {
        await this.sessions.signOut(req, res);
      }
      writeContractResponse(res, response);
    } catch (error) {
      // A throwing session hook or store: the contract's 500 body, never Nest's or a stack.
      if (res.headersSent) {
        next(error);
        return;
      }
      writeContractResponse(res, errorResponse(error, this.passgate.runtime.logger));
    }
  }

  private handlerFor(mount: string): ContractHandler {
    let handler = this.handlers.get(mount);
    if (!handler) {
      const options: ContractHandlerOptions = { prefix: mount };
      if (this.options.cookieName !== undefined) options.cookieName = this.options.cookieName;
      if (this.options.maxBodyBytes !== undefined) options.maxBodyBytes = this.options.maxBodyBytes;
      if (this.options.secureCookies !== undefined) options.secureCookies = this.options.secureCookies;
      handler = createContractHandler(this.passgate, options);
      // Bounded: mounts come from the routes Nest registered, not from clients.
      if (this.handlers.size < 16) this.handlers.set(mount, handler);
    }
    return handler;
  }
}

/**
 * Sets `req.passkey` (the sign-in, or `null`) on every request, as `@passgate/express`'s router does,
 * so `@PasskeySession()` and your own code can read it without a guard.
 */
@Injectable()
export class PasskeySessionMiddleware implements NestMiddleware {
  private readonly prefix: string;

  constructor(
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
    @Inject(PASSKEYS_MODULE_OPTIONS) private readonly options: PasskeysModuleOptions,
  ) {
    this.prefix = normalizePrefix(options.prefix ?? '/passkeys');
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    // The contract's own routes: the contract middleware resolves the sign-in itself, after the
    // request-shape checks, and answers its errors in the contract's format (503, 500), not Nest's.
    if (this.options.controller !== false && locate(this.prefix, requestPath(req))) {
      next();
      return;
    }
    try {
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
    const answer = wellKnownWebauthn(passgate, {
      method: req.method,
      path: requestPath(req),
      headers: req.headers,
      ip: req.ip,
    });
    if (answer) writeContractResponse(res, answer);
    else next();
  };
}
