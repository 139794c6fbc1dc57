import type { PasskeySession } from '@passgate/core';
import type { SessionAdapter } from '@passgate/express';
import type { Request } from 'express';

export {
  DEFAULT_SESSION_COOKIE_NAME,
  expressSessionAdapter,
  hooksAdapter,
  SESSION_KEY,
} from '@passgate/express';

/**
 * How sign-ins are read and written, whatever the `session` option chose. Injectable as
 * `PASSKEY_SESSIONS`. The very adapters of `@passgate/express`, so both frameworks keep sign-ins the
 * same way (and can share one express-session store).
 */
export type PasskeySessions = SessionAdapter;

/**
 * The sign-in of a request: `req.passkey` when the module's middleware already resolved it, else
 * resolved now (and remembered), e.g. for a guard on a route the middleware does not cover.
 */
export async function resolveSession(
  sessions: PasskeySessions,
  req: Request,
): Promise<PasskeySession | null> {
  if (req.passkey !== undefined) return req.passkey;
  req.passkey = await sessions.get(req);
  return req.passkey;
}
