import type { PassgateStores } from '@passgate/core';

/** What a stores module's `createStores` returns: the stores one process uses, and how to let go of them. */
export interface SharedStores {
  stores: PassgateStores;
  /** Closes what `createStores` opened (pool, client); the child exits after it settles. */
  close(): Promise<void>;
}

/**
 * The ESM module each child process imports (`storesModule`). `createStores` receives the child's
 * environment (`process.env`, including the `env` given to the helper) and returns stores on the
 * backend every process shares: same database and schema, same Redis and key prefix, and so on.
 */
export interface SharedStoresModule {
  createStores(env: Readonly<Record<string, string | undefined>>): Promise<SharedStores>;
}

/** Environment variables the parent sets for the child (internal). */
export const CHILD_ENV = {
  storesModule: 'PASSGATE_PROCESSES_STORES_MODULE',
  rpId: 'PASSGATE_PROCESSES_RP_ID',
  origin: 'PASSGATE_PROCESSES_ORIGIN',
  secret: 'PASSGATE_PROCESSES_SECRET',
} as const;
