/**
 * `@passgate/express`: passkey sign-in for Express 5 apps, serving the Passgate HTTP contract.
 * @packageDocumentation
 */
import './augment.js';

export { passkeyErrorHandler } from './error-handler.js';
export { type RecentAuthenticationOptions, requireRecentAuthentication, requireSignIn } from './guards.js';
export type { PasskeyRouterOptions, PasskeySessionHooks } from './options.js';
export { createPasskeyRouter, DEFAULT_SESSION_COOKIE_NAME } from './router.js';
export { SESSION_KEY } from './session.js';
