import { describeAccountDeletionContract } from './account-deletion.js';
import { describeAccountRenameContract } from './account-rename.js';
import { describeAccountRepositoryContract } from './account-repository.js';
import { describeAccountRepositoryRules } from './account-repository-rules.js';
import { describeChallengeStoreContract } from './challenge-store.js';
import { describeChallengeStoreExpiry } from './challenge-store-expiry.js';
import type { StorageAdapterSuiteOptions, StorageAdapterUnderTest, SuiteContext } from './context.js';
import { describeCountingStoreContract } from './counting-store.js';
import { describeCredentialLimitsContract } from './credential-limits.js';
import { describeCredentialRepositoryContract } from './credential-repository.js';
import { describeCredentialRepositoryRules } from './credential-repository-rules.js';
import type { TestRunner } from './runner.js';
import { describeSignInStoreContract } from './sign-in-store.js';
import { describeStoreFailures } from './store-failures.js';

/** What `describeStorageAdapter` takes as `setup`. */
export type StorageAdapterSetup = () => Promise<StorageAdapterUnderTest> | StorageAdapterUnderTest;

/**
 * The storage adapter conformance suite on any test runner: one call registers every contract test
 * of `ChallengeStore`, `CredentialRepository` and `AccountRepository` (and the optional `AccountRepository.rename`, `SignInStore` and `CountingStore`) (as documented in
 * `@passgate/core`'s `stores.ts`) in one group of `runner`.
 *
 * `setup` runs once, before the tests; `teardown` once, after them. The tests share the stores and
 * may run against a database that already holds data: each one uses fresh random ids, usernames and
 * user handles, and never assumes the store is empty.
 */
export function describeStorageAdapterWith(
  runner: TestRunner,
  name: string,
  setup: StorageAdapterSetup,
  options: StorageAdapterSuiteOptions = {},
): void {
  const concurrency = options.concurrency ?? 50;
  if (!Number.isSafeInteger(concurrency) || concurrency < 2)
    throw new RangeError('concurrency must be at least 2');
  let subject: StorageAdapterUnderTest | undefined;
  const ctx: SuiteContext = {
    runner,
    stores() {
      if (subject === undefined)
        throw new Error(`describeStorageAdapter(${JSON.stringify(name)}): setup did not complete`);
      return subject.stores;
    },
    ttlMs: options.ttlMs ?? 300,
    ttlSlackMs: options.ttlSlackMs ?? 400,
    concurrency,
    unavailableWithinMs: options.unavailableWithinMs ?? 2000,
    unreachable: options.unreachable,
    misconfigured: options.misconfigured,
    counting: options.counting ?? false,
    renaming: options.renaming ?? false,
  };

  runner.describe(`storage adapter conformance: ${name}`, () => {
    runner.beforeAll(async () => {
      subject = await setup();
    }, 60_000);
    runner.afterAll(async () => {
      await subject?.teardown?.();
    }, 60_000);

    describeChallengeStoreContract(ctx);
    describeChallengeStoreExpiry(ctx);
    describeCredentialRepositoryContract(ctx);
    describeCredentialRepositoryRules(ctx);
    describeCredentialLimitsContract(ctx);
    describeAccountRepositoryContract(ctx);
    describeAccountRepositoryRules(ctx);
    describeAccountDeletionContract(ctx);
    describeAccountRenameContract(ctx);
    describeSignInStoreContract(ctx);
    describeCountingStoreContract(ctx);
    describeStoreFailures(ctx);
  });
}
