import { type ContractHandlerOptions, createContractHandler, wellKnownWebauthn } from '@passgate/core/http';
import { type ErrorRequestHandler, type Request, Router } from 'express';
import { passkeyErrorHandler } from './error-handler.js';
import { rememberPassgate } from './instance.js';
import type { PasskeyRouterOptions } from './options.js';
import { fullPath, pathBelow, toContractRequest } from './request.js';
import { writeContractResponse } from './response.js';
import { expressSessionAdapter, hooksAdapter } from './session.js';
import { signInAdapter } from './sign-in.js';

/** express-session's default cookie name. */
export const DEFAULT_SESSION_COOKIE_NAME = 'connect.sid';

/**
 * The Passgate HTTP contract as an Express router. Mount it with `app.use(router)` after
 * express-session (or give `session` hooks); routes after it can read `req.passkey`.
 *
 * All contract logic (routing, checks, status codes, cookies, error bodies) lives in
 * `@passgate/core/http`; this only translates requests and responses and applies session actions.
 * Bodies of the passkey routes are read here, bounded; other routes are untouched.
 */
export function createPasskeyRouter(options: PasskeyRouterOptions): Router {
  const { passgate } = options;
  if (!passgate) throw new TypeError('createPasskeyRouter needs a `passgate` (from createPassgate).');
  const handlerOptions: ContractHandlerOptions = {};
  if (options.prefix !== undefined) handlerOptions.prefix = options.prefix;
  if (options.cookieName !== undefined) handlerOptions.cookieName = options.cookieName;
  if (options.maxBodyBytes !== undefined) handlerOptions.maxBodyBytes = options.maxBodyBytes;
  if (options.secureCookies !== undefined) handlerOptions.secureCookies = options.secureCookies;
  const handler = createContractHandler(passgate, handlerOptions);
  const sessions = signInAdapter(
    passgate,
    options.session === undefined || options.session === 'express-session'
      ? expressSessionAdapter(options.sessionCookieName ?? DEFAULT_SESSION_COOKIE_NAME)
      : hooksAdapter(options.session),
    options,
  );

  const router = Router();
  const ours = (req: Request) => pathBelow(handler.prefix, fullPath(req));

  router.use(async (req, res, next) => {
    rememberPassgate(req, passgate);
    const path = fullPath(req);
    const below = ours(req);
    try {
      // Resolved afresh for each router (a second router may belong to another Passgate instance).
      req.passkey = undefined;
      // The related origins (rp.relatedOrigins), at the site root whatever the prefix.
      const wellKnown = wellKnownWebauthn(passgate, {
        method: req.method,
        path,
        headers: req.headers,
        ip: req.ip,
      });
      if (wellKnown) {
        writeContractResponse(res, wellKnown);
        return;
      }
      if (below === undefined) {
        await sessions.resolve(req, res);
        next();
        return;
      }
      sessions.assertReady(req);
      // The handler looks the sign-in up only after the request-shape checks (contract order: a
      // store outage behind the session must not answer before 403/415/413/429/400).
      const response = await handler.handle(toContractRequest(req, below, () => sessions.resolve(req, res)));
      if (!response) {
        await sessions.resolve(req, res);
        next();
        return;
      }
      const action = response.sessionAction;
      if (action?.type === 'sign_in') {
        await sessions.signIn(req, res, action.session, action.user);
      } else if (action?.type === 'sign_out') {
        await sessions.signOut(req, res);
      }
      writeContractResponse(res, response);
    } catch (error) {
      next(error);
    }
  });

  // Errors on the passkey routes get the contract's body; errors on the app's routes (e.g. a
  // throwing getSignedInUser hook) go on to the app's own error handling.
  const errors = passkeyErrorHandler();
  const scoped: ErrorRequestHandler = (error, req, res, next) => {
    if (ours(req) === undefined) next(error);
    else errors(error, req, res, next);
  };
  router.use(scoped);
  return router;
}
