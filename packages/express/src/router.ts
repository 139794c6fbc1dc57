import { createContractHandler, pathBelow, WELL_KNOWN_WEBAUTHN_PATH } from '@passgate/core/http';
import {
  contractHandlerOptions,
  createSignInAdapter,
  expressSessionAdapter,
  nodeWriter,
  serveContract,
  serveWellKnown,
} from '@passgate/core/node';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { passkeyErrorHandler } from './error-handler.js';
import { rememberPassgate } from './instance.js';
import type { PasskeyRouterOptions } from './options.js';
import { expressRequestInfo, fullPath } from './request.js';

/**
 * express-session's default cookie name.
 * @deprecated Import `DEFAULT_SESSION_COOKIE_NAME` from `@passgate/core/node`.
 */
export { DEFAULT_SESSION_COOKIE_NAME } from '@passgate/core/node';

/**
 * The Passgate HTTP contract as Express middleware. Mount it with `app.use(createPasskeyRouter(...))`
 * after express-session (or give `session` hooks); routes after it can read `req.passkey`.
 *
 * All contract logic (routing, checks, status codes, cookies, error bodies) lives in
 * `@passgate/core/http`, and the Node glue (requests, responses, sessions) in `@passgate/core/node`;
 * this only mounts them on Express. Bodies of the passkey routes are read there, bounded; other
 * routes are untouched.
 *
 * It is one middleware function, not an `express.Router()`: a nested router costs every request of
 * the app another dispatch (layer matching, `next`/restore closures, URL trimming), about a tenth of
 * a sign-in's CPU in the Express demo. Mounting under a path (`app.use('/auth', ...)`) behaves as it
 * did: Express trims the path and sets `req.baseUrl` for any middleware.
 */
export function createPasskeyRouter(options: PasskeyRouterOptions): RequestHandler {
  const { passgate } = options;
  if (!passgate)
    throw new TypeError('passgate: createPasskeyRouter needs a `passgate` (from createPassgate).');
  const handler = createContractHandler(passgate, contractHandlerOptions(options));
  const signIns = createSignInAdapter<Request, Response>(passgate, options, (name) =>
    expressSessionAdapter<Request>(name),
  );
  // Errors on the passkey routes get the contract's body; errors on the app's routes (e.g. a
  // throwing getSignedInUser hook) go on to the app's own error handling.
  const errors = passkeyErrorHandler();

  async function serve(req: Request, res: Response, next: NextFunction): Promise<void> {
    rememberPassgate(req, passgate);
    const path = fullPath(req);
    const below = pathBelow(handler.prefix, path);
    try {
      // Resolved afresh for each router (a second router may belong to another Passgate instance).
      req.passkey = undefined;
      const write = nodeWriter(res);
      // The related origins (rp.relatedOrigins), at the site root whatever the prefix. `req.ip`
      // (proxy-addr walking X-Forwarded-For) only for that path.
      if (path === WELL_KNOWN_WEBAUTHN_PATH && serveWellKnown(passgate, req, path, req.ip, write)) return;
      if (below === undefined) {
        await signIns.resolve(req, res);
        next();
        return;
      }
      const served = await serveContract(passgate, handler, signIns, {
        raw: req,
        req,
        res,
        below,
        info: expressRequestInfo(req),
        write,
        sent: () => res.headersSent,
      });
      if (!served) next();
    } catch (error) {
      if (below === undefined) next(error);
      else errors(error, req, res, next);
    }
  }

  return (req, res, next) => {
    // Whatever escapes (an error handler that throws) goes on to Express, as a router's would.
    serve(req, res, next).catch(next);
  };
}
