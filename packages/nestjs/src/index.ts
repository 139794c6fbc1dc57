/**
 * `@passgate/nestjs`: passkey sign-in for NestJS apps on `@nestjs/platform-express`, serving the
 * Passgate HTTP contract exactly like `@passgate/express`.
 * @packageDocumentation
 */
import './augment.js';

export {
  IS_PUBLIC_KEY,
  PASSGATE,
  PASSGATE_STORES,
  PASSKEY_SESSIONS,
  RECENT_AUTHENTICATION_KEY,
} from './constants.js';
export { PasskeySessionMiddleware, PasskeysContractMiddleware } from './contract.middleware.js';
export {
  CurrentUser,
  CurrentUserPipe,
  PasskeySession,
  Public,
  RequireRecentAuthentication,
} from './decorators.js';
export { PassgateHttpException, PasskeyExceptionFilter } from './errors.js';
export { PasskeyAuthGuard, type RecentAuthenticationRequirement } from './guard.js';
export {
  PASSKEYS_MODULE_OPTIONS,
  type PasskeysModuleAsyncOptions,
  type PasskeysModuleForRootOptions,
  type PasskeysOptionsFactory,
} from './module-definition.js';
export type {
  PassgateConfig,
  PasskeySessionHooks,
  PasskeysHttpOptions,
  PasskeysModuleExtras,
  PasskeysModuleOptions,
} from './options.js';
export { PasskeysModule } from './passkeys.module.js';
export { PasskeysService } from './passkeys.service.js';
export { DEFAULT_SESSION_COOKIE_NAME, type PasskeySessions, SESSION_KEY } from './session.js';
