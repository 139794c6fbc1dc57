/**
 * `@passgate/nestjs`: passkey sign-in for NestJS apps on `@nestjs/platform-express` or
 * `@nestjs/platform-fastify`, serving the Passgate HTTP contract exactly like `@passgate/express`.
 * @packageDocumentation
 */
import './augment.js';

/**
 * On `@nestjs/platform-fastify`: the adapter's `rewriteUrl` option, so a malformed id in a path gets
 * the contract's answer (`new FastifyAdapter({ rewriteUrl: passkeysRewriteUrl() })`).
 */
export { passkeysRewriteUrl } from '@passgate/core/node';
export { PasskeyAuthGuard, PasskeyExceptionFilter, PasskeySessionMiddleware } from './deprecated.js';
export {
  IS_PUBLIC_KEY,
  PASSGATE,
  PASSGATE_STORES,
  PASSKEY_SESSIONS,
  RECENT_AUTHENTICATION_KEY,
} from './passkeys.constants.js';
export {
  CurrentUser,
  CurrentUserPipe,
  PasskeySession,
  Public,
  RequireRecentAuthentication,
} from './passkeys.decorators.js';
export { PassgateHttpException, PasskeysExceptionFilter } from './passkeys.filter.js';
export { PasskeysGuard, type RecentAuthenticationRequirement } from './passkeys.guard.js';
export { PasskeysContractMiddleware, PasskeysSessionMiddleware } from './passkeys.middleware.js';
export { PasskeysModule } from './passkeys.module.js';
export {
  PASSKEYS_MODULE_OPTIONS,
  type PasskeysModuleAsyncOptions,
  type PasskeysModuleForRootOptions,
  type PasskeysOptionsFactory,
} from './passkeys.module-definition.js';
export type {
  PassgateConfig,
  PasskeySessionHooks,
  PasskeysHttpOptions,
  PasskeysModuleExtras,
  PasskeysModuleOptions,
} from './passkeys.options.js';
export { PasskeysService } from './passkeys.service.js';
export { DEFAULT_SESSION_COOKIE_NAME, type PasskeySessions, SESSION_KEY } from './session.js';
