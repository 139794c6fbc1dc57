/**
 * `@passgate/express`: passkey sign-in for Express 5 apps, serving the Passgate HTTP contract.
 * @packageDocumentation
 */
import './augment.js';

// The Express building blocks of the router, for other integrations on Express: `@passgate/nestjs`
// (on @nestjs/platform-express) uses these, so both frameworks translate requests, write responses
// and keep sign-ins in exactly the same way.
export { fromBodyParserError, passkeyErrorHandler } from './error-handler.js';
export { type RecentAuthenticationOptions, requireRecentAuthentication, requireSignIn } from './guards.js';
export type { PasskeyRouterOptions, PasskeySessionHooks } from './options.js';
export { bodyAlreadyRead, toContractRequest } from './request.js';
export { writeContractResponse } from './response.js';
export { createPasskeyRouter, DEFAULT_SESSION_COOKIE_NAME } from './router.js';
export {
  asPasskeySession,
  expressSessionAdapter,
  hooksAdapter,
  SESSION_KEY,
  type SessionAdapter,
} from './session.js';
export { type ApplicationSignInOptions, type SignInAdapter, signInAdapter } from './sign-in.js';
