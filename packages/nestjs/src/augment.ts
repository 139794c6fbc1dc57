import type { SignIn } from '@passgate/core';

declare global {
  namespace Express {
    interface Request {
      /**
       * The current passkey sign-in, set by the passkeys module's middleware on every request: `null`
       * when nobody is signed in. (The same property `@passgate/express` sets.)
       */
      passkey?: SignIn | null;
    }
  }
}
