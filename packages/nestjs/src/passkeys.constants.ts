/**
 * Injection tokens of `@passgate/nestjs`. Symbols, so they can never collide with an app's own
 * string tokens.
 */

/** The `Passgate` instance the module serves (the one passed in, or the one built from the options). */
export const PASSGATE = Symbol('PASSGATE');

/**
 * Optional: the `PassgateStores` to build the Passgate instance with, when the module options give
 * neither `passgate` nor `stores`. Provide it from any module the passkeys module can see (a global
 * module, or one listed in `forRootAsync({ imports })`), e.g. a module that connects Redis and
 * exports `{ provide: PASSGATE_STORES, useFactory: (redis) => createRedisStores({ client: redis }) }`.
 */
export const PASSGATE_STORES = Symbol('PASSGATE_STORES');

/** The `PasskeySessions` (how sign-ins are read and written) chosen by the `session` option. */
export const PASSKEY_SESSIONS = Symbol('PASSKEY_SESSIONS');

/** Metadata key of `@Public()`. */
export const IS_PUBLIC_KEY = 'passgate:public';

/** Metadata key of `@RequireRecentAuthentication()`. */
export const RECENT_AUTHENTICATION_KEY = 'passgate:recent-authentication';
