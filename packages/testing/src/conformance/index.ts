import { afterAll, beforeAll, describe } from 'vitest';
import { describeAccountDeletionContract } from './account-deletion.js';
import { describeAccountRepositoryContract } from './account-repository.js';
import { describeChallengeStoreContract } from './challenge-store.js';
import type { StorageAdapterSuiteOptions, StorageAdapterUnderTest, SuiteContext } from './context.js';
import { describeCredentialLimitsContract } from './credential-limits.js';
import { describeCredentialRepositoryContract } from './credential-repository.js';

export type { StorageAdapterSuiteOptions, StorageAdapterUnderTest } from './context.js';
export {
  makeAccount,
  makeCredential,
  makeSignUp,
  randomBase64url,
  randomCeremonyId,
  randomCredentialId,
  randomUserHandle,
  randomUserId,
  randomUsername,
} from './fixtures.js';

/**
 * The storage adapter conformance suite: one call registers every contract test of `ChallengeStore`,
 * `CredentialRepository` and `AccountRepository` (as documented in `@passgate/core`) in a vitest
 * `describe` block.
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
  setup: () => Promise<StorageAdapterUnderTest> | StorageAdapterUnderTest,
  options: StorageAdapterSuiteOptions = {},
): void {
  const concurrency = options.concurrency ?? 50;
  if (!Number.isSafeInteger(concurrency) || concurrency < 2)
    throw new RangeError('concurrency must be at least 2');
  let subject: StorageAdapterUnderTest | undefined;
  const ctx: SuiteContext = {
    stores() {
      if (subject === undefined)
        throw new Error(`describeStorageAdapter(${JSON.stringify(name)}): setup did not complete`);
      return subject.stores;
    },
    ttlMs: options.ttlMs ?? 300,
    ttlSlackMs: options.ttlSlackMs ?? 400,
    concurrency,
  };

  describe(`storage adapter conformance: ${name}`, () => {
    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.teardown?.();
    });

    describeChallengeStoreContract(ctx);
    describeCredentialRepositoryContract(ctx);
    describeCredentialLimitsContract(ctx);
    describeAccountRepositoryContract(ctx);
    describeAccountDeletionContract(ctx);
  });
}
