import type { PassgateStores } from '@passgate/core';

/** What `setup` hands the suite: the stores to test, and how to clean up after them. */
export interface StorageAdapterUnderTest {
  stores: PassgateStores;
  /** Called once after all tests (close connections, drop the test schema, ...). */
  teardown?: () => Promise<void> | void;
}

export interface StorageAdapterSuiteOptions {
  /** TTL used by expiry tests, ms (default 300); the suite waits ttl + slack. */
  ttlMs?: number;
  /** Extra wait after the TTL before expecting a challenge to be gone, ms (default 400). */
  ttlSlackMs?: number;
  /** Number of concurrent callers in race tests (default 50). */
  concurrency?: number;
}

/** What each contract module receives: the stores (available once `setup` has run) and the options. */
export interface SuiteContext {
  stores(): PassgateStores;
  ttlMs: number;
  ttlSlackMs: number;
  concurrency: number;
}
