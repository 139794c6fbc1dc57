import type { SignIn } from '../sign-in.js';
import type { PasskeySession, PendingSignIn, UserView } from '../types.js';

/**
 * The framework-neutral request and response of the HTTP contract. A framework adapter turns its
 * request into a `ContractRequest`, calls `handle`, and writes the `ContractResponse` back verbatim:
 * status, headers, cookies and JSON body are decided here, so two frameworks cannot drift apart.
 */
export interface ContractRequest {
  method: string;
  /** The path below the mount prefix, e.g. `/login/options` or `/credentials/AbC`; no query string. */
  path: string;
  /** Request headers with lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** `https` makes the ceremony cookie `Secure`. */
  protocol: 'http' | 'https';
  /** The client's IP, as the application's proxy settings resolve it. */
  ip?: string | undefined;
  /** The request body: read it (bounded), or take what a body parser before us already parsed. */
  body: ContractBody;
  /**
   * The current sign-in (Passgate's session or the application's own signed-in user, checked against
   * the store by `resolveRequestSignIn`), or a function resolving it. The handler calls the function
   * once, only after the request-shape checks (403, 415, 413, 429, 400): looking the sign-in up
   * touches the store, and during an outage its 503 must not answer before them (contract order).
   */
  session: SignIn | null | (() => Promise<SignIn | null>);
  /**
   * Throws when the app cannot keep sign-ins (e.g. express-session not mounted). Called first, and
   * only for endpoints that read or keep one (every one but `POST /login/options`), so an app may
   * leave its session layer off that path. Optional.
   */
  sessionsReady?: () => void;
  /**
   * Optional: starts keeping a passkey sign-in before the credential's update has committed, so the
   * two writes overlap (`FinishAuthenticationInput.beginSignIn`); `undefined` when the integration
   * keeps this one afterwards instead. A `sign_in` action it kept says so (`kept: true`).
   */
  beginSignIn?: ((session: PasskeySession) => PendingSignIn | undefined) | undefined;
}

/** A `ContractRequest` whose sign-in has been resolved, as the endpoints see it. */
export type ResolvedContractRequest = Omit<ContractRequest, 'session'> & { session: SignIn | null };

export type ContractBody =
  | {
      kind: 'stream';
      /**
       * Reads at most `limit` bytes. Must reject with `PassgateError('payload_too_large')` as soon as
       * more arrive (without buffering them), and resolve an empty array for no body.
       */
      read(limit: number): Promise<Uint8Array>;
    }
  /** A host app's body parser consumed the stream already; its value is used as the JSON body. */
  | { kind: 'parsed'; value: unknown }
  | { kind: 'none' };

/** What to do with the session after the response: the adapter applies it before writing. */
export type SessionAction =
  | {
      type: 'sign_in';
      session: PasskeySession;
      /** Who signed in (`id` is the application's user id), for the application's own sign-in hook. */
      user: UserView;
      /**
       * The session is written already (through `ContractRequest.beginSignIn`): the adapter only
       * finishes the sign-in (the application's own hook), it does not keep it a second time.
       */
      kept?: boolean;
    }
  | { type: 'sign_out' };

export interface ContractResponse {
  status: number;
  /** Lower-case header names: content-type, cache-control, retry-after. */
  headers: Record<string, string>;
  /** Full `Set-Cookie` header values. */
  cookies: string[];
  /** A JSON value to serialise, or undefined for no body (204). */
  body: unknown;
  sessionAction?: SessionAction;
}
