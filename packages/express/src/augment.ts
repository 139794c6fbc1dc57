import type { PasskeySession } from '@passgate/core';

declare global {
  namespace Express {
    interface Request {
      /**
       * The current passkey sign-in, set by the middleware of `createPasskeyRouter` on every request
       * that passes through it: `null` when nobody is signed in, `undefined` on requests that never
       * went through the router (e.g. routes mounted before it).
       */
      passkey?: PasskeySession | null;
    }
  }
}
