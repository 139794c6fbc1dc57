import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { serialize } from 'cookie';
import type { PasskeySession, PendingSignIn } from '../types.js';
import { appendSetCookie } from './response.js';

/**
 * How an integration reads and writes Passgate's own sign-in, whatever keeps it (express-session,
 * the application's hooks, a Fastify session plugin). `Req`/`Res` are the framework's request and
 * response (Node's `IncomingMessage`/`ServerResponse` or subtypes of them, or Fastify's objects).
 */
export interface SessionAdapter<Req = IncomingMessage, Res = ServerResponse> {
  /**
   * Throws when sign-ins could not be kept (no session middleware mounted). Called before a passkey
   * route runs, so a misconfigured app fails before anything is written, not after an account exists.
   */
  assertReady(req: Req): void;
  get(req: Req): Promise<PasskeySession | null>;
  signIn(req: Req, res: Res, session: PasskeySession): Promise<void>;
  /**
   * Optional: starts `signIn` without waiting, for a sign-in that may still be refused (the
   * credential's update runs at the same time); `undefined` when this request's sign-in must be kept
   * with `signIn` afterwards. `undo()` must leave the request and the store as if nothing was kept:
   * no stored session, no session cookie on the response.
   */
  begin?(req: Req, res: Res, session: PasskeySession): PendingSignIn | undefined;
  signOut(req: Req, res: Res): Promise<void>;
  /**
   * Ends a sign-in whose passkey was deleted, in the middle of a request that goes on (signed out).
   * Default: `signOut`. express-session mode regenerates the session instead of destroying it, so the
   * rest of the request still has a (new, empty) `req.session`.
   */
  expire?(req: Req, res: Res): Promise<void>;
}

/**
 * Session hooks for apps that keep sign-ins themselves (their own session store, a JWT cookie, ...).
 * Each may be async. Errors thrown here answer `500 internal_error` on the passkey routes.
 */
export interface PasskeySessionHooks<Req = IncomingMessage, Res = ServerResponse> {
  /**
   * The current passkey sign-in, or `null`. Called on every request that passes through the
   * integration (it sets `req.passkey`), so keep it cheap. Optional with `identify` (a JWT app
   * returns the passkey in its `identify` answer instead); default: nobody.
   */
  getSignedInUser?(req: Req): PasskeySession | null | Promise<PasskeySession | null>;
  /**
   * A passkey sign-in (or sign-up) succeeded: persist `session`. Runs before the response is written,
   * so it may set cookies or headers on `res`; it must not send a body. Rotate any session identifier
   * here (no fixation).
   */
  onSignIn(req: Req, res: Res, session: PasskeySession): void | Promise<void>;
  /** `POST /logout`: end the sign-in on the server (revoke, not just forget the cookie). Must not send a body. */
  onSignOut(req: Req, res: Res): void | Promise<void>;
}

/** The part of a connect-style session (`req.session` of express-session, @fastify/session) used here. */
export interface ConnectSessionLike {
  passgate?: unknown;
  cookie?: {
    path?: string;
    domain?: string;
    secure?: boolean | 'auto';
    sameSite?: unknown;
    httpOnly?: boolean;
  };
  regenerate(callback: (error?: unknown) => void): void;
  save(callback: (error?: unknown) => void): void;
  destroy(callback: (error?: unknown) => void): void;
}

const NO_SESSION =
  'passgate: a passkey sign-in needs a session: mount express-session before the passkey routes, or pass session hooks.';

/** A request that may carry a connect-style session (`req.session`). */
export interface SessionRequest {
  headers: IncomingHttpHeaders;
}

/** The key the sign-in is stored under in express-session. */
export const SESSION_KEY = 'passgate';

/** express-session's default cookie name. */
export const DEFAULT_SESSION_COOKIE_NAME = 'connect.sid';

function expressSession(req: object): ConnectSessionLike | undefined {
  const session = (req as { session?: unknown }).session;
  return session && typeof session === 'object' ? (session as ConnectSessionLike) : undefined;
}

function call(run: (callback: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/** A stored value is trusted only if it still has the shape of a `PasskeySession` (older versions, tampering with the store). */
export function asPasskeySession(value: unknown): PasskeySession | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (
    typeof v['userId'] !== 'string' ||
    typeof v['userHandle'] !== 'string' ||
    typeof v['credentialId'] !== 'string' ||
    typeof v['authenticatedAt'] !== 'number' ||
    typeof v['userVerified'] !== 'boolean'
  ) {
    return null;
  }
  return {
    userId: v['userId'],
    userHandle: v['userHandle'],
    credentialId: v['credentialId'],
    authenticatedAt: v['authenticatedAt'],
    userVerified: v['userVerified'],
  };
}

/** `req.sessionStore.generate(req)`: express-session's own "new session with a new id" (what regenerate() calls after destroying). */
function sessionGenerator(req: object): ((req: object) => void) | undefined {
  const store = (req as { sessionStore?: { generate?: unknown } }).sessionStore;
  return typeof store?.generate === 'function'
    ? (store.generate as (req: object) => void).bind(store)
    : undefined;
}

/**
 * Puts the sign-in into the request's new session (made by regenerate() or generate()) and saves it.
 * express-session's response hook cannot see a save made after regenerate()/generate() (only
 * sessions it made itself are tracked) and would write the same session a second time: once stored,
 * that second save becomes a no-op for this request's session object. When the save fails, the new
 * express-session session is taken off the request, so the error's response carries no cookie for a session the
 * store does not have, and express-session does not try the save again as the response ends.
 */
async function keep(req: object, session: PasskeySession): Promise<void> {
  // express-session's own behaviour is known (its store has generate()); other connect-style
  // sessions (@fastify/session) keep their request object as it is.
  const forget = sessionGenerator(req) !== undefined;
  const fresh = expressSession(req);
  if (!fresh) throw new Error('passgate: express-session did not create a new session.');
  fresh[SESSION_KEY] = session;
  try {
    await call((cb) => fresh.save(cb));
  } catch (error) {
    if (forget && expressSession(req) === fresh) delete (req as { session?: unknown }).session;
    throw error;
  }
  Object.defineProperty(fresh, 'save', {
    configurable: true,
    writable: true,
    value: (callback?: (error?: unknown) => void) => {
      callback?.();
      return fresh;
    },
  });
}

/** Whether the request carried the session cookie (any value): only then can the store hold its session. */
function hasCookie(req: { headers: IncomingHttpHeaders }, name: string): boolean {
  const header = req.headers.cookie;
  if (!header) return false;
  // A scan rather than split(';'): this runs on every sign-in, and the header may hold many cookies.
  const wanted = `${name}=`;
  for (let at = header.indexOf(wanted); at !== -1; at = header.indexOf(wanted, at + 1)) {
    let before = at - 1;
    while (before >= 0 && (header[before] === ' ' || header[before] === '\t')) before -= 1;
    if (before < 0 || header[before] === ';') return true;
  }
  return false;
}

/**
 * express-session mode, for any connect-style session on `req.session` (express-session, and
 * @fastify/session on Fastify's request). Sign-in gives the session a new id first (a session id
 * known before the sign-in, e.g. planted by an attacker, never becomes a signed-in one), then saves
 * explicitly so the store has the sign-in before the response reaches the browser: one store write
 * per sign-in. When the request brought a session cookie, `regenerate()` also removes the old
 * session from the store; without one, nothing can be stored under the old id, so express-session's
 * new session is made without that store round trip. Sign-out destroys the session in the store and
 * clears its cookie.
 *
 * @param appendCookie Adds a `Set-Cookie` value to the response; default: on a Node `ServerResponse`
 *   (Express's response is one). Fastify passes `(reply, value) => reply.header('set-cookie', value)`.
 */
export function expressSessionAdapter<Req extends SessionRequest = IncomingMessage>(
  sessionCookieName?: string,
): SessionAdapter<Req, ServerResponse>;
export function expressSessionAdapter<Req extends SessionRequest, Res>(
  sessionCookieName: string | undefined,
  appendCookie: (res: Res, value: string) => void,
): SessionAdapter<Req, Res>;
export function expressSessionAdapter<Req extends SessionRequest, Res>(
  sessionCookieName: string = DEFAULT_SESSION_COOKIE_NAME,
  appendCookie: (res: Res, value: string) => void = (res, value) =>
    appendSetCookie(res as ServerResponse, [value]),
): SessionAdapter<Req, Res> {
  return {
    assertReady(req) {
      if (!expressSession(req)) throw new Error(NO_SESSION);
    },
    async get(req) {
      return asPasskeySession(expressSession(req)?.[SESSION_KEY]);
    },
    async signIn(req, _res, session) {
      const current = expressSession(req);
      if (!current) {
        throw new Error(NO_SESSION);
      }
      const generate = hasCookie(req, sessionCookieName) ? undefined : sessionGenerator(req);
      if (generate) generate(req);
      else await call((cb) => current.regenerate(cb));
      await keep(req, session);
    },
    begin(req, _res, session) {
      // Only without a session cookie: with one, signIn() first removes the old session
      // (regenerate), and a sign-in that is then refused must not have signed anyone out.
      if (!expressSession(req) || hasCookie(req, sessionCookieName)) return undefined;
      const generate = sessionGenerator(req);
      if (!generate) return undefined;
      generate(req);
      const kept = keep(req, session);
      return {
        kept,
        async undo() {
          await kept.catch(() => {});
          const fresh = expressSession(req);
          if (!fresh) return;
          // destroy() removes req.session first, so express-session neither sends its cookie nor
          // saves it again at the end of the response; then it deletes the stored copy.
          await call((cb) => fresh.destroy(cb));
        },
      };
    },
    async expire(req) {
      const current = expressSession(req);
      // regenerate() removes the old session from the store: its cookie signs no one in any more.
      if (current) await call((cb) => current.regenerate(cb));
    },
    async signOut(req, res) {
      const current = expressSession(req);
      if (!current) return;
      const cookie = current.cookie ?? {};
      await call((cb) => current.destroy(cb));
      // What Express's `res.clearCookie` writes.
      appendCookie(
        res,
        serialize(sessionCookieName, '', {
          path: cookie.path ?? '/',
          ...(cookie.domain ? { domain: cookie.domain } : {}),
          expires: new Date(1),
          httpOnly: cookie.httpOnly ?? true,
          ...(cookie.secure === true ? { secure: true } : {}),
        }),
      );
    },
  };
}

/** Hooks mode: the application keeps sign-ins (see `PasskeySessionHooks`). */
export function hooksAdapter<Req, Res>(hooks: PasskeySessionHooks<Req, Res>): SessionAdapter<Req, Res> {
  return {
    assertReady() {},
    async get(req) {
      return (await hooks.getSignedInUser?.(req)) ?? null;
    },
    async signIn(req, res, session) {
      await hooks.onSignIn(req, res, session);
    },
    async signOut(req, res) {
      await hooks.onSignOut(req, res);
    },
  };
}
