import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveRequestSignIn } from '../http/sign-in.js';
import type { Passgate } from '../passgate.js';
import type { IdentifiedUser, SignIn } from '../sign-in.js';
import type { PasskeySession, PendingSignIn, UserView } from '../types.js';
import type { SessionAdapter } from './session.js';

/**
 * For applications that sign their users in themselves (passwords, social sign-in, passport, their
 * own sessions or JWTs) and add passkeys for those users.
 */
export interface ApplicationSignInOptions<Req = IncomingMessage, Res = ServerResponse> {
  /**
   * Who the application has signed in for this request, or `null`: with passport,
   * `(req) => req.user ? { userId: req.user.id, name: req.user.email, authenticatedAt: req.session.signedInAt } : null`.
   * Called once per request that passes through the integration (mount it after passport/your
   * session middleware). Such a user counts as signed in for the whole contract: their first passkey
   * links their user id to a new random user handle, and sign-in with it answers with their user id.
   * A throw or an answer that is not an `IdentifiedUser` is a 500 (`internal_error`, logged naming
   * `identify`), never a guess.
   */
  identify?: (req: Req) => IdentifiedUser | null | undefined | Promise<IdentifiedUser | null | undefined>;
  /**
   * A passkey sign-in (or sign-up) succeeded: establish the application's own session for `user.id`
   * (`req.login(...)` with passport, a JWT cookie). Runs after Passgate kept its own session and before
   * the response is written; it may set cookies, must not send a body. A throw answers 500.
   * `session.credentialId` is the passkey used: keep it in a JWT and return it from `identify`, so the
   * JWT stops counting when that passkey is deleted.
   */
  onPasskeySignIn?: (
    req: Req,
    res: Res,
    signIn: { user: UserView; session: PasskeySession },
  ) => void | Promise<void>;
}

/** How an integration reads, keeps and ends sign-ins: Passgate's session plus the application's own. */
export interface SignInAdapter<Req = IncomingMessage, Res = ServerResponse> {
  /** See `SessionAdapter.assertReady`. */
  assertReady(req: Req): void;
  /**
   * The request's sign-in, resolved once and kept in `req.passkey`: Passgate's session and the
   * application's `identify`, checked against the store. A sign-in made with a passkey that has since
   * been deleted is ended here (the session destroyed, or the `onSignOut` hook called) and reads as
   * signed out. `res` defaults to `req.res` (Express).
   */
  resolve(req: Req, res?: Res): Promise<SignIn | null>;
  /** Keeps a passkey sign-in, then calls the application's `onPasskeySignIn`. */
  signIn(req: Req, res: Res, session: PasskeySession, user: UserView): Promise<void>;
  /**
   * Optional: starts keeping a passkey sign-in while the credential's update is still in flight
   * (`SessionAdapter.begin`); `undefined` when it is kept afterwards with `signIn`. Once the sign-in
   * stands, `finish(user)` does the rest of `signIn` (records it on the request, then calls
   * `onPasskeySignIn`).
   */
  begin?(req: Req, res: Res, session: PasskeySession): BegunSignIn | undefined;
  /** Ends the sign-in on the server (`POST /logout`). */
  signOut(req: Req, res: Res): Promise<void>;
}

/** A sign-in `SignInAdapter.begin` started: its session write, and what is left to do once it stands. */
export interface BegunSignIn extends PendingSignIn {
  finish(user: UserView): Promise<void>;
}

/** Where the resolved sign-in is kept on a request: `req.passkey`, as the framework packages document it. */
interface PasskeySlot<Res> {
  passkey?: SignIn | null;
  res?: Res;
}

function slot<Res>(req: object): PasskeySlot<Res> {
  return req as PasskeySlot<Res>;
}

/** Whether a response (Node's, or a framework's around it) has already been sent. */
function headersSent(res: unknown): boolean {
  const value = res as { headersSent?: boolean; sent?: boolean; raw?: { headersSent?: boolean } };
  return value.headersSent === true || value.sent === true || value.raw?.headersSent === true;
}

export function signInAdapter<Req extends object, Res>(
  passgate: Passgate,
  sessions: SessionAdapter<Req, Res>,
  app: ApplicationSignInOptions<Req, Res> = {},
): SignInAdapter<Req, Res> {
  if (app.identify !== undefined && typeof app.identify !== 'function')
    throw new TypeError('passgate: `identify` must be a function (req) => user | null.');
  if (app.onPasskeySignIn !== undefined && typeof app.onPasskeySignIn !== 'function')
    throw new TypeError('passgate: `onPasskeySignIn` must be a function (req, res, { user, session }).');
  const { identify, onPasskeySignIn } = app;
  return {
    assertReady(req) {
      sessions.assertReady(req);
    },
    async resolve(req, res) {
      const carrier = slot<Res>(req);
      if (carrier.passkey !== undefined) return carrier.passkey;
      const session = await sessions.get(req);
      const resolved = await resolveRequestSignIn(passgate, {
        session,
        identify: identify ? () => identify(req) : undefined,
      });
      const response = res ?? carrier.res;
      if (resolved.ended && response !== undefined && !headersSent(response)) {
        await (sessions.expire ? sessions.expire(req, response) : sessions.signOut(req, response));
      }
      carrier.passkey = resolved.signIn;
      return resolved.signIn;
    },
    async signIn(req, res, session, user) {
      await sessions.signIn(req, res, session);
      slot<Res>(req).passkey = session;
      await onPasskeySignIn?.(req, res, { user, session });
    },
    begin(req, res, session) {
      const pending = sessions.begin?.(req, res, session);
      if (!pending) return undefined;
      return {
        kept: pending.kept,
        undo: () => pending.undo(),
        async finish(user) {
          slot<Res>(req).passkey = session;
          await onPasskeySignIn?.(req, res, { user, session });
        },
      };
    },
    async signOut(req, res) {
      await sessions.signOut(req, res);
      slot<Res>(req).passkey = null;
    },
  };
}
