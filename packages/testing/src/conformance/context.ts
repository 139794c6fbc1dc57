import type { PassgateStores } from '@passgate/core';
import type { TestRunner } from './runner.js';

/** Stores of the adapter under test wired to some backend, and how to let go of them. */
export interface StoresHandle {
  stores: PassgateStores;
  /** Called once the suite is done with these stores (close the pool, stop the fake server, ...). */
  close?: () => Promise<void> | void;
}

/** What `setup` hands the suite: the stores to test, and how to clean up after them. */
export interface StorageAdapterUnderTest {
  stores: PassgateStores;
  /** Called once after all tests (close connections, drop the test schema, ...). */
  teardown?: () => Promise<void> | void;
}

export interface StorageAdapterSuiteOptions {
  /** TTL used by expiry tests, ms (default 300); the suite waits ttl + slack. */
  ttlMs?: number;
  /**
   * How far the store's expiry may be from the exact TTL, either way, ms (default 400): the suite
   * expects a value still there `ttlSlackMs` before its TTL is up and gone `ttlSlackMs` after. "Gone"
   * is timed from the put's answer; "still there" from sending the put to the consume's answer, and
   * when a slow machine made that longer than TTL - `ttlSlackMs` the check proves nothing: it is
   * retried, then fails as "too slow to check". A larger slack leaves a slow machine more room.
   */
  ttlSlackMs?: number;
  /** Number of concurrent callers in race tests (default 50). */
  concurrency?: number;
  /**
   * How long a method may take to reject with `store_unavailable` when the backend cannot be
   * reached, ms (default 2000). Set it to the timeout your adapter documents. It is time the test
   * process could run in: the deadline moves by the stalls of that process the suite sees (its
   * timers late by more than a tick), during which the adapter's timeout runs late too.
   */
  unavailableWithinMs?: number;
  /**
   * The outage hook: the same adapter, configured as in production but pointed at a backend that
   * cannot be reached (a closed port, or a server that accepts connections and never answers). The
   * suite then calls every method and expects each to reject with `store_unavailable` within
   * `unavailableWithinMs`. Omit it only for a store that lives in the application's process (the suite then
   * reports the test as not run).
   */
  unreachable?: () => Promise<StoresHandle> | StoresHandle;
  /**
   * The deployment-fault hook: the same adapter pointed at a backend that answers but is set up
   * wrongly (its tables or keys missing, no permission). The suite expects every method to reject,
   * with anything but `store_unavailable` (contract 1.1: such a fault is a `500 internal_error`,
   * never a `503`). Omit it only for a store without a schema or permissions.
   */
  misconfigured?: () => Promise<StoresHandle> | StoresHandle;
  /**
   * Whether the stores offer the optional `counting` (`CountingStore`: the per-IP request count in
   * the ceremony's store operation). `true`: its contract tests run, through the HTTP contract with
   * the store's own `limiter` (1 to 1000 points; a few, such as 5, keep them quick). Omitted or
   * `false`: they are reported as not run, and a test fails if the stores offer it after all.
   */
  counting?: boolean;
  /**
   * Whether the stores offer the optional `AccountRepository.rename`. `true`: its contract tests run.
   * Omitted or `false`: they are reported as not run, and a test fails if the stores offer it after all.
   */
  renaming?: boolean;
}

/** What each contract module receives: the runner, the stores (once `setup` has run) and the options. */
export interface SuiteContext {
  runner: TestRunner;
  stores(): PassgateStores;
  unreachable: StorageAdapterSuiteOptions['unreachable'];
  misconfigured: StorageAdapterSuiteOptions['misconfigured'];
  counting: boolean;
  renaming: boolean;
  ttlMs: number;
  ttlSlackMs: number;
  concurrency: number;
  unavailableWithinMs: number;
}
