import type { SignIn } from '@passgate/core';

declare global {
  namespace Express {
    interface Request {
      /**
       * The current sign-in, set by the middleware of `createPasskeyRouter` on every request that
       * passes through it: a Passgate session (`PasskeySession`), the application's own signed-in
       * user when `identify` is configured (`ApplicationSignIn`, `source: 'application'`), `null`
       * when nobody is signed in, `undefined` on requests that never went through the router.
       * A sign-in made with a passkey that has since been deleted reads as `null`.
       */
      passkey?: SignIn | null;
    }
  }
}
