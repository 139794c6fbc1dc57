/**
 * `@passgate/express`: passkey sign-in for Express 5 apps, serving the Passgate HTTP contract.
 * @packageDocumentation
 */
import './augment.js';

/** A connect-style session store whose outages answer 503 (from `@passgate/core/node`). */
export { withStoreOutages } from '@passgate/core/node';
// The Node building blocks once exported here for `@passgate/nestjs` now live in
// `@passgate/core/node`, shared by every integration; kept (deprecated) for existing imports.
export { fromBodyParserError, passkeyErrorHandler } from './error-handler.js';
export { type RecentAuthenticationOptions, requireRecentAuthentication, requireSignIn } from './guards.js';
export type { PasskeyRouterOptions, PasskeySessionHooks } from './options.js';
export { bodyAlreadyRead, toContractRequest } from './request.js';
export { writeContractResponse } from './response.js';
export { createPasskeyRouter, DEFAULT_SESSION_COOKIE_NAME } from './router.js';
export { expressServerOptions } from './server-options.js';
export {
  asPasskeySession,
  expressSessionAdapter,
  hooksAdapter,
  SESSION_KEY,
  type SessionAdapter,
} from './session.js';
export type { ApplicationSignInOptions } from './sign-in.js';
export { type SignInAdapter, signInAdapter } from './sign-in.js';
