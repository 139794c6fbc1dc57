import type { PasskeyHttpOptions } from '../node/options.js';
import type { IdentifiedUser } from '../sign-in.js';
import type { PasskeySession, UserView } from '../types.js';

/**
 * How the application keeps sign-ins on a Web-standard platform (Hono, Next.js route handlers, Bun,
 * Deno): Passgate never owns the cookies or the session store there. Each hook may be async; an error
 * thrown by one answers `500 internal_error` (logged), like any other bug.
 */
export interface FetchSessionHooks {
  /**
   * The current sign-in for this request, or `null` (e.g. from a signed cookie or a session store).
   * Called once per request that the handler serves, before the contract's checks.
   */
  getSignedInUser(request: Request): PasskeySession | null | Promise<PasskeySession | null>;
  /**
   * A passkey sign-in (or sign-up) succeeded: persist `session` and put what the browser needs on
   * `responseHeaders` (typically `responseHeaders.append('set-cookie', ...)`). Runs before the
   * response is built. Issue a new session identifier here (never reuse one the request carried).
   */
  onSignIn(session: PasskeySession, responseHeaders: Headers, request: Request): void | Promise<void>;
  /** `POST /logout`: end the sign-in on the server (revoke, not just forget) and clear its cookie on `responseHeaders`. */
  onSignOut(request: Request, responseHeaders: Headers): void | Promise<void>;
}

/** Connection facts a `Request` does not carry; the host platform supplies them per request. */
export interface FetchRequestInfo {
  /**
   * The client's IP address, for the per-IP rate limit, as your proxy settings resolve it (Hono on
   * Node: `getConnInfo(c).remote.address`; Bun: `server.requestIP(request)`; behind a proxy you
   * trust: the address it reports). Without it every client shares one bucket.
   */
  ip?: string | undefined;
}

/**
 * `prefix`, `cookieName` and `maxBodyBytes` are those every integration takes (`PasskeyHttpOptions`
 * of `@passgate/core/node`, same defaults); sessions, the client IP and https are the Web platform's.
 */
export interface FetchHandlerOptions
  extends Pick<PasskeyHttpOptions<never, never>, 'prefix' | 'cookieName' | 'maxBodyBytes'> {
  /** Sign-ins: the application's own (see `FetchSessionHooks`). Required. */
  session: FetchSessionHooks;
  /**
   * The application's own signed-in user for this request (password, social sign-in), or null: as
   * `identify` of `@passgate/express` (see `IdentifiedUser`). Such a user counts as signed in; their
   * first passkey links their user id to a new random user handle. A throw or a malformed answer is
   * a logged 500. Default: none.
   */
  identify?: (
    request: Request,
  ) => IdentifiedUser | null | undefined | Promise<IdentifiedUser | null | undefined>;
  /**
   * After a passkey sign-in (and after `session.onSignIn`): establish the application's own session
   * for `user.id` (e.g. its JWT cookie on `responseHeaders`). Default: none.
   */
  onPasskeySignIn?: (
    signIn: { user: UserView; session: PasskeySession },
    responseHeaders: Headers,
    request: Request,
  ) => void | Promise<void>;
  /**
   * The client's IP when the platform's second argument does not give it (e.g. read from a header
   * your own proxy sets). Default: none. `info.ip` wins when both are present.
   */
  getClientIp?(request: Request): string | undefined;
  /**
   * Whether the site is served over https when `request.url` says http (TLS ended at a proxy): the
   * ceremony cookie is then `Secure`. Default: taken from `request.url`.
   */
  secure?: boolean;
}
