/**
 * `@passgate/fastify`: passkey sign-in for Fastify 5 apps, serving the Passgate HTTP contract.
 * @packageDocumentation
 */
import './augment.js';

/** A session store whose outages answer 503 (from `@passgate/core/node`). */
/** Fastify's `rewriteUrl` option, so a malformed id in a path gets the contract's answer (from `@passgate/core/node`). */
export { passkeysRewriteUrl, withStoreOutages } from '@passgate/core/node';
export { requireSignIn } from './guards.js';
export type { PasskeyPluginOptions } from './options.js';
export { passkeys } from './plugin.js';
