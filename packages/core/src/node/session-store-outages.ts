import { isPassgateError, storeUnavailable } from '../errors.js';

/** The callback-style methods of a connect-style session store that reach its server. */
const STORE_METHODS = ['get', 'set', 'destroy', 'touch'] as const;

/**
 * A connect-style session store (connect-redis, connect-pg-simple, any express-session or
 * @fastify/session store) whose outages answer the passkey routes as Passgate's own stores' do:
 * `503 store_unavailable` ("try again"), not a 500. A sign-in saves the session, and
 * express-session hands the store's error to the request as it is, which is a 500.
 *
 * `isOutage` is the classification of the store's server: `isUnavailableError` of
 * `@passgate/redis` or `@passgate/postgres` for a session store on the same server. Every other
 * error (a missing table, a bug) is passed on unchanged and stays a logged 500, so a deployment
 * fault never looks like an outage.
 *
 * Returns the same store object, its `get`, `set`, `destroy` and `touch` wrapped (those it has):
 * call it once per store, before handing the store to the session middleware.
 */
export function withStoreOutages<S extends object>(store: S, isOutage: (error: unknown) => boolean): S {
  const methods = store as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  for (const name of STORE_METHODS) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = function classified(this: unknown, ...args: unknown[]) {
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, ...rest: unknown[]) =>
          callback(
            error && !isPassgateError(error) && isOutage(error) ? storeUnavailable(error) : error,
            ...rest,
          );
      }
      return original.apply(this, args);
    };
  }
  return store;
}
