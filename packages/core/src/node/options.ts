import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContractHandlerOptions } from '../http/handler.js';
import type { Passgate } from '../passgate.js';
import {
  DEFAULT_SESSION_COOKIE_NAME,
  hooksAdapter,
  type PasskeySessionHooks,
  type SessionAdapter,
} from './session.js';
import { type ApplicationSignInOptions, type SignInAdapter, signInAdapter } from './sign-in.js';

/**
 * The HTTP options every framework integration takes (`@passgate/express`'s router, the NestJS
 * module, the Fastify plugin): one type, so a default or a doc comment cannot drift between them.
 */
export interface PasskeyHttpOptions<Req = IncomingMessage, Res = ServerResponse>
  extends ApplicationSignInOptions<Req, Res> {
  /**
   * Where the contract's routes live, as a full path from the app's root, e.g.
   * `/passkeys/login/options`. Default `/passkeys`. It is also the ceremony cookie's `Path`.
   */
  prefix?: string;
  /** Name of the ceremony cookie. Default `passgate_ceremony`. */
  cookieName?: string;
  /** Largest request body on the passkey routes, in bytes. Default 65536 (64 KiB, the contract's limit). */
  maxBodyBytes?: number;
  /**
   * When the ceremony cookie gets `Secure`. Default `'auto'`: when the request came over https as
   * the framework sees it (behind a TLS-terminating proxy, that needs the framework's `trust proxy`;
   * a warning is logged once when a configured origin is https but a request is not). `true`: always;
   * `false`: never (http development).
   */
  secureCookies?: 'auto' | boolean;
  /**
   * How sign-ins are kept. Default `'express-session'`: `req.session` (a connect-style session
   * middleware mounted before); the sign-in is stored under `req.session.passgate` after
   * `regenerate()`, and `POST /logout` calls `destroy()` and clears the session cookie. Or hooks for
   * apps with their own sessions or JWTs. Either works with `identify` (the application's own sign-in).
   */
  session?: 'express-session' | PasskeySessionHooks<Req, Res>;
  /**
   * Name of the session cookie, cleared on logout in `'express-session'` mode. Default `connect.sid`
   * (express-session's default); set it when you pass `name` to express-session.
   */
  sessionCookieName?: string;
}

/** The keys of `PasskeyHttpOptions`, e.g. to tell them apart from Passgate's own options. */
export const PASSKEY_HTTP_OPTION_KEYS = [
  'prefix',
  'cookieName',
  'maxBodyBytes',
  'secureCookies',
  'session',
  'sessionCookieName',
  'identify',
  'onPasskeySignIn',
] as const satisfies readonly (keyof PasskeyHttpOptions)[];

/** The contract handler's options out of an integration's options (only those that are set). */
export function contractHandlerOptions(
  options: Pick<PasskeyHttpOptions<never, never>, 'prefix' | 'cookieName' | 'maxBodyBytes' | 'secureCookies'>,
): ContractHandlerOptions {
  const picked: ContractHandlerOptions = {};
  if (options.prefix !== undefined) picked.prefix = options.prefix;
  if (options.cookieName !== undefined) picked.cookieName = options.cookieName;
  if (options.maxBodyBytes !== undefined) picked.maxBodyBytes = options.maxBodyBytes;
  if (options.secureCookies !== undefined) picked.secureCookies = options.secureCookies;
  return picked;
}

/**
 * The sign-in adapter an integration's `session` option asks for: express-session (or another
 * connect-style session on `req.session`) by default, or the application's hooks; with the
 * application's own sign-in (`identify`, `onPasskeySignIn`).
 *
 * @param connectSession Makes the default mode's adapter for the session cookie's name: on Node's
 *   response `expressSessionAdapter`; on Fastify's reply, one that sets cookies on the reply.
 */
export function createSignInAdapter<Req extends object, Res>(
  passgate: Passgate,
  options: PasskeyHttpOptions<Req, Res>,
  connectSession: (sessionCookieName: string) => SessionAdapter<Req, Res>,
): SignInAdapter<Req, Res> {
  const mode = options.session;
  const sessions =
    mode === undefined || mode === 'express-session'
      ? connectSession(options.sessionCookieName ?? DEFAULT_SESSION_COOKIE_NAME)
      : hooksAdapter(mode);
  return signInAdapter(passgate, sessions, options);
}
