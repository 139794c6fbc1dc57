import { concurrently, expectRejectsWithCode, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { seedAccount } from './credential-repository.js';
import { expect } from './expect.js';
import { makeCredential } from './fixtures.js';

/**
 * Contract tests for the two rules of `CredentialRepository` that a check-then-act adapter breaks
 * under concurrency: the per-account cap of `create` and the one-attempt-one-answer rule of
 * `updateAfterSignIn`.
 */
export function describeCredentialLimitsContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('CredentialRepository atomic limits', () => {
    const repo = () => ctx.stores().credentials;

    it('create with maxPerAccount: of 10 parallel adds at cap - 1, exactly one resolves (in each of 6 rounds)', async () => {
      // Several rounds, each on a fresh account: a check-then-act adapter loses the race in some
      // rounds only (PostgreSQL without the account row lock got through in about half of them).
      const cap = 4;
      for (let round = 0; round < 6; round++) {
        const { account } = await seedAccount(ctx.stores(), [{}, {}]);
        const adds = Array.from({ length: 10 }, () => makeCredential({ userHandle: account.userHandle }));
        const results = await concurrently(adds.length, (i) =>
          repo().create(adds[i]!, { maxPerAccount: cap }),
        );
        const { fulfilled, rejectedCodes } = settle(results);
        expect(fulfilled).toHaveLength(1);
        expect(rejectedCodes).toEqual(Array(9).fill('too_many_credentials'));
        expect(await repo().listByUserHandle(account.userHandle)).toHaveLength(cap);
      }
    });

    it('create with maxPerAccount rejects at the cap and writes nothing; below it, it adds', async () => {
      const { account } = await seedAccount(ctx.stores(), [{}]);
      const extra = makeCredential({ userHandle: account.userHandle });
      await expectRejectsWithCode(repo().create(extra, { maxPerAccount: 2 }), 'too_many_credentials');
      expect(await repo().findById(extra.id)).toBeNull();
      await repo().create(extra, { maxPerAccount: 3 });
      expect(await repo().listByUserHandle(account.userHandle)).toHaveLength(3);
    });

    it('updateAfterSignIn: a second identical update with the same expectedCounter is not applied', async () => {
      const { credentials } = await seedAccount(ctx.stores(), [], { counter: 7 });
      const update = {
        id: credentials[0]!.id,
        expectedCounter: 7,
        counter: 8,
        backedUp: false,
        // The same millisecond for both: a clone replaying one counter value right away.
        lastUsedAt: new Date(Date.UTC(2026, 4, 5, 6, 7, 8, 9)),
      };
      expect(await repo().updateAfterSignIn(update)).not.toBeNull();
      expect(await repo().updateAfterSignIn({ ...update })).toBeNull();
      expect((await repo().findById(update.id))?.counter).toBe(8);
    });
  });
}
