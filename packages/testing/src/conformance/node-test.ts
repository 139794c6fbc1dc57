import { after, before, describe, it } from 'node:test';
import type { StorageAdapterSuiteOptions } from './context.js';
import type { TestRunner } from './runner.js';
import { describeStorageAdapterWith, type StorageAdapterSetup } from './suite.js';

export * from './common.js';

/** `node:test`'s functions in the shape the suite registers with (`before`/`after`, timeouts as options). */
export const nodeTestRunner: TestRunner = {
  describe: (name, body) => {
    describe(name, body);
  },
  it: (name, fn, timeoutMs) => {
    it(name, { timeout: timeoutMs }, async () => {
      await fn();
    });
  },
  beforeAll: (fn, timeoutMs) => {
    before(fn, { timeout: timeoutMs });
  },
  afterAll: (fn, timeoutMs) => {
    after(fn, { timeout: timeoutMs });
  },
  skip: (name, reason) => {
    it(name, { skip: reason }, () => {});
  },
};

/**
 * The storage adapter conformance suite for `node:test` (`node --test`): the same tests as
 * `describeStorageAdapter` from `@passgate/testing/conformance`, registered with `node:test`.
 *
 * @example
 * // test/conformance.test.mjs, run with `node --test`
 * import { describeStorageAdapter } from '@passgate/testing/conformance/node-test';
 * describeStorageAdapter('mine', async () => ({ stores: await createMyStores() }));
 */
export function describeStorageAdapter(
  name: string,
  setup: StorageAdapterSetup,
  options: StorageAdapterSuiteOptions = {},
): void {
  describeStorageAdapterWith(nodeTestRunner, name, setup, options);
}
