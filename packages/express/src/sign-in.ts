import type {
  ApplicationSignInOptions as NodeApplicationSignInOptions,
  SignInAdapter as NodeSignInAdapter,
} from '@passgate/core/node';
import type { Request, Response } from 'express';

/**
 * For applications that sign their users in themselves (passwords, social sign-in, passport, their
 * own sessions or JWTs) and add passkeys for those users: `identify` and `onPasskeySignIn` on
 * Express's request and response (see `ApplicationSignInOptions` in `@passgate/core/node`).
 */
export type ApplicationSignInOptions = NodeApplicationSignInOptions<Request, Response>;

/**
 * How the router reads, keeps and ends sign-ins.
 * @deprecated Use `SignInAdapter<Request, Response>` from `@passgate/core/node`.
 */
export type SignInAdapter = NodeSignInAdapter<Request, Response>;

/** @deprecated Import `signInAdapter` from `@passgate/core/node`. */
export { signInAdapter } from '@passgate/core/node';
