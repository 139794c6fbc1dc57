import type { StorageAdapterSuiteOptions } from './context.js';
import type { TestRunner } from './runner.js';
import { describeStorageAdapterWith, type StorageAdapterSetup } from './suite.js';

export * from './common.js';

/** The functions Jest puts on `globalThis` in every test file (`injectGlobals`, on by default). */
interface JestGlobals {
  describe(name: string, fn: () => void): void;
  it: ((name: string, fn: () => Promise<void> | void, timeout?: number) => void) & {
    skip(name: string, fn: () => void): void;
  };
  beforeAll(fn: () => Promise<void> | void, timeout?: number): void;
  afterAll(fn: () => Promise<void> | void, timeout?: number): void;
}

/**
 * Jest's functions in the shape the suite registers with. Read from `globals` (default: Jest's
 * globals) when the suite registers, so importing this module outside Jest is harmless; with
 * `injectGlobals: false`, pass the functions of `@jest/globals` instead.
 */
export function jestRunner(globals: JestGlobals = globalThis as unknown as JestGlobals): TestRunner {
  if (typeof globals.describe !== 'function' || typeof globals.it !== 'function') {
    throw new Error(
      'jestRunner: Jest globals (describe, it) are missing; run under Jest or pass them from @jest/globals',
    );
  }
  return {
    describe: (name, body) => globals.describe(name, body),
    it: (name, fn, timeoutMs) => globals.it(name, fn, timeoutMs),
    beforeAll: (fn, timeoutMs) => globals.beforeAll(fn, timeoutMs),
    afterAll: (fn, timeoutMs) => globals.afterAll(fn, timeoutMs),
    skip: (name, reason) => globals.it.skip(`${name} (not run: ${reason})`, () => {}),
  };
}

/**
 * The storage adapter conformance suite for Jest: the same tests as `describeStorageAdapter` from
 * `@passgate/testing/conformance`, registered with Jest's globals. The package is ESM: run Jest with
 * `NODE_OPTIONS=--experimental-vm-modules` and `transform: {}` (Jest's documented ESM setup).
 *
 * @example
 * // test/conformance.test.mjs
 * import { describeStorageAdapter } from '@passgate/testing/conformance/jest';
 * describeStorageAdapter('mine', async () => ({ stores: await createMyStores() }));
 */
export function describeStorageAdapter(
  name: string,
  setup: StorageAdapterSetup,
  options: StorageAdapterSuiteOptions & { globals?: JestGlobals } = {},
): void {
  describeStorageAdapterWith(jestRunner(options.globals), name, setup, options);
}
