import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContractHandler } from '../http/handler.js';
import type { ContractResponse } from '../http/types.js';
import { wellKnownWebauthn } from '../http/well-known.js';
import type { Passgate } from '../passgate.js';
import { contractErrorResponse } from './errors.js';
import { type NodeRequestInfo, toContractRequest } from './request.js';
import { writeContractResponse } from './response.js';
import type { BegunSignIn, SignInAdapter } from './sign-in.js';

/**
 * Serves one request of the contract end to end: lets the contract handler decide (routing, checks,
 * cookies, error bodies; it resolves the sign-in after the request-shape checks), applies its
 * session action, then hands the answer to `write`. Resolves `false`, writing nothing, when the path is not a contract route (the
 * framework goes on, to its 404). Errors (a throwing session hook, a store down) are answered with
 * the contract's body unless the response was already sent, when they are rethrown.
 *
 * `exchange.below` is the path below the mount prefix (`pathBelow`, `locatePrefix`); `write` sends a
 * `ContractResponse` (`nodeWriter(res)` on a Node response).
 */
export async function serveContract<Req extends object, Res>(
  passgate: Passgate,
  handler: ContractHandler,
  signIns: SignInAdapter<Req, Res>,
  exchange: {
    /** Node's request, whose stream holds the body. */
    raw: IncomingMessage;
    /** The framework's request the sign-ins are kept on (the same object on Express). */
    req: Req;
    res: Res;
    below: string;
    info?: NodeRequestInfo;
    write: (response: ContractResponse) => void;
    /** Whether the response was already sent (then an error is rethrown, not answered). */
    sent: () => boolean;
  },
): Promise<boolean> {
  const { req, res, write } = exchange;
  try {
    // The handler looks the sign-in up only after the request-shape checks (contract order: a store
    // outage behind the session must not answer before 403/415/413/429/400), and only for endpoints
    // that read it; it asks whether sign-ins can be kept first, except on `POST /login/options`,
    // which needs no session (an app may leave its session middleware off that path).
    const resolve = () => signIns.resolve(req, res);
    const request = toContractRequest(exchange.raw, exchange.below, resolve, exchange.info);
    request.sessionsReady = () => signIns.assertReady(req);
    // A sign-in's session write may overlap the credential's update (see SignInAdapter.begin).
    let begun: BegunSignIn | undefined;
    const begin = signIns.begin;
    if (begin) request.beginSignIn = (session) => (begun = begin.call(signIns, req, res, session));
    const response = await handler.handle(request);
    if (!response) {
      // Not a contract route: the app's handlers after us still read `req.passkey`.
      await resolve();
      return false;
    }
    const action = response.sessionAction;
    if (action?.type === 'sign_in') {
      if (action.kept && begun) await begun.finish(action.user);
      else await signIns.signIn(req, res, action.session, action.user);
    } else if (action?.type === 'sign_out') {
      await signIns.signOut(req, res);
    }
    write(response);
    return true;
  } catch (error) {
    if (exchange.sent()) throw error;
    write(contractErrorResponse(error, passgate));
    return true;
  }
}

/**
 * `GET /.well-known/webauthn` (related origins) on a Node response: `true` when it answered, `false`
 * for any other request or when no related origins are configured (the framework goes on).
 *
 * @param path The request's full path from the server root (`requestPath(req.url)`).
 */
export function serveWellKnown(
  passgate: Passgate,
  req: IncomingMessage,
  path: string,
  ip: string | undefined,
  write: (response: ContractResponse) => void,
): boolean {
  const answer = wellKnownWebauthn(passgate, { method: req.method ?? 'GET', path, headers: req.headers, ip });
  if (!answer) return false;
  write(answer);
  return true;
}

/** `write` for a Node `ServerResponse` (Express's response, Fastify's `reply.raw`). */
export function nodeWriter(res: ServerResponse): (response: ContractResponse) => void {
  return (response) => writeContractResponse(res, response);
}
