import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PasskeysModuleExtras, PasskeysModuleOptions } from './passkeys.options.js';

/**
 * `forRoot(options)` and `forRootAsync({ imports, useFactory, inject, useClass, useExisting })`,
 * both taking `isGlobal`. The options land under `PASSKEYS_MODULE_OPTIONS`.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: PASSKEYS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PasskeysModuleOptions>({ moduleName: 'Passkeys' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPasskeysOptions')
  .setExtras<PasskeysModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? false,
  }))
  .build();

/** What `forRoot` takes. */
export type PasskeysModuleForRootOptions = typeof OPTIONS_TYPE;
/** What `forRootAsync` takes. */
export type PasskeysModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/**
 * A class for `forRootAsync({ useClass })` / `useExisting`: Nest instantiates it (with its own
 * injections) and calls `createPasskeysOptions()`.
 */
export interface PasskeysOptionsFactory {
  createPasskeysOptions(): PasskeysModuleOptions | Promise<PasskeysModuleOptions>;
}
