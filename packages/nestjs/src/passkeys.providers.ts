import type { Provider } from '@nestjs/common';
import { createPassgate, type Passgate, type PassgateOptions, type PassgateStores } from '@passgate/core';
import { PASSKEY_HTTP_OPTION_KEYS } from '@passgate/core/node';
import { PASSGATE, PASSGATE_STORES, PASSKEY_SESSIONS } from './passkeys.constants.js';
import { PASSKEYS_MODULE_OPTIONS } from './passkeys.module-definition.js';
import type { PasskeysHttpOptions, PasskeysModuleOptions } from './passkeys.options.js';
import { platformSignIns } from './platform.js';
import type { PasskeySessions } from './session.js';

/**
 * The Passgate instance, in this order:
 * 1. `options.passgate`, a ready instance (its stores, policy and rate limits are used as they are);
 * 2. built from the options with `options.stores`;
 * 3. built from the options with the stores under `PASSGATE_STORES`, from another module.
 * Neither `passgate`, `stores` nor a `PASSGATE_STORES` provider is a configuration error at boot:
 * there is no silent in-memory fallback that would lose every passkey on restart.
 */
export function resolvePassgate(
  options: PasskeysModuleOptions,
  injected: PassgateStores | undefined,
): Passgate {
  if ('passgate' in options && options.passgate) return options.passgate;
  const config = { ...options } as Record<string, unknown>;
  for (const key of HTTP_OPTION_KEYS) delete config[key];
  const stores = (config['stores'] as PassgateStores | undefined) ?? injected;
  if (!stores) {
    throw new Error(
      'passgate: PasskeysModule needs stores: pass `passgate`, or `stores`, or provide PASSGATE_STORES from a module it can see.',
    );
  }
  return createPassgate({ ...(config as Omit<PassgateOptions, 'stores'>), stores });
}

/** The options that shape the HTTP side, not the Passgate instance. */
const HTTP_OPTION_KEYS: readonly (keyof PasskeysHttpOptions)[] = [...PASSKEY_HTTP_OPTION_KEYS, 'controller'];

export const passgateProvider: Provider = {
  provide: PASSGATE,
  useFactory: resolvePassgate,
  inject: [PASSKEYS_MODULE_OPTIONS, { token: PASSGATE_STORES, optional: true }],
};

export const sessionsProvider: Provider = {
  provide: PASSKEY_SESSIONS,
  useFactory: (options: PasskeysModuleOptions, passgate: Passgate): PasskeySessions =>
    platformSignIns(passgate, options),
  inject: [PASSKEYS_MODULE_OPTIONS, PASSGATE],
};
