import { afterAll, beforeAll, describe, it } from 'vitest';
import type { StorageAdapterSuiteOptions } from './context.js';
import type { TestRunner } from './runner.js';
import { describeStorageAdapterWith, type StorageAdapterSetup } from './suite.js';

export * from './common.js';

/** vitest's functions in the shape the suite registers with. */
export const vitestRunner: TestRunner = {
  describe: (name, body) => describe(name, body),
  it: (name, fn, timeoutMs) => it(name, fn, timeoutMs),
  beforeAll: (fn, timeoutMs) => beforeAll(fn, timeoutMs),
  afterAll: (fn, timeoutMs) => afterAll(fn, timeoutMs),
  skip: (name, reason) => it.skip(`${name} (not run: ${reason})`, () => {}),
};

/**
 * The storage adapter conformance suite for vitest: one call registers every contract test of
 * `ChallengeStore`, `CredentialRepository` and `AccountRepository` (as documented in
 * `@passgate/core`) in a vitest `describe` block. The same suite runs on Jest
 * (`@passgate/testing/conformance/jest`), `node:test` (`@passgate/testing/conformance/node-test`)
 * and any other runner (`describeStorageAdapterWith`).
 *
 * `setup` runs once, before the tests; `teardown` once, after them. The tests share the stores and
 * may run against a database that already holds data: each one uses fresh random ids, usernames and
 * user handles, and never assumes the store is empty.
 *
 * @example
 * describeStorageAdapter('postgres', async () => {
 *   const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 *   await migrate({ pool });
 *   return { stores: createPostgresStores({ pool }), teardown: () => pool.end() };
 * });
 */
export function describeStorageAdapter(
  name: string,
  setup: StorageAdapterSetup,
  options: StorageAdapterSuiteOptions = {},
): void {
  describeStorageAdapterWith(vitestRunner, name, setup, options);
}
