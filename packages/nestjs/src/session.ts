import type { SignIn } from '@passgate/core';
import type { SignInAdapter } from '@passgate/core/node';

/**
 * express-session's default cookie name, and the key the sign-in is kept under in `req.session`.
 * @deprecated Import them from `@passgate/core/node`.
 */
export { DEFAULT_SESSION_COOKIE_NAME, SESSION_KEY } from '@passgate/core/node';

/**
 * How sign-ins are read and written, whatever the `session` option chose, together with the
 * application's own sign-in (`identify`). Injectable as `PASSKEY_SESSIONS`. The adapters of
 * `@passgate/core/node`, the very ones `@passgate/express` uses, so both frameworks keep sign-ins the
 * same way (and can share one express-session store). Takes the platform's request and response:
 * Express's, or Fastify's request and reply.
 */
// biome-ignore lint/suspicious/noExplicitAny: the platform's request and response (Express or Fastify)
export type PasskeySessions = SignInAdapter<any, any>;

/**
 * The sign-in of a request: `req.passkey` when the module's middleware already resolved it, else
 * resolved now (and remembered), e.g. for a guard on a route the middleware does not cover. A
 * sign-in whose passkey was deleted is ended here and reads as `null`.
 */
export function resolveSession(
  sessions: PasskeySessions,
  req: object,
  res?: unknown,
): Promise<SignIn | null> {
  return sessions.resolve(req, res);
}
