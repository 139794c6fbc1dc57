import { setTimeout as sleep } from 'node:timers/promises';
import type { PassgateStores, SignInReads, SignInStore, UsernameReads } from '@passgate/core';
import { concurrently, expectAccount, expectCredential, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { seedAccount } from './credential-repository.js';
import { expect } from './expect.js';
import { makeCredential, randomCeremonyId, randomCredentialId, randomUserHandle } from './fixtures.js';

/** A TTL no test waits out. */
const LONG_TTL_MS = 10 * 60_000;

/**
 * What the core does without `stores.signIn`: the three separate calls. The tests below run on it
 * for an adapter that has no `signIn`, so they hold either way (and check the calls the core makes).
 */
export function separateSignInReads(stores: PassgateStores): Omit<SignInStore, 'readsFrom'> {
  return {
    async consumeForSignIn(ceremonyId, credentialId): Promise<SignInReads> {
      const [ceremony, credential] = await Promise.all([
        stores.challenges.consume(ceremonyId),
        stores.credentials.findById(credentialId),
      ]);
      const account =
        credential === null ? null : await stores.accounts.findByUserHandle(credential.userHandle);
      return { ceremony, credential, account };
    },
    async findForSignIn(username, standInHandle): Promise<UsernameReads> {
      const account = await stores.accounts.findByUsername(username);
      const credentials = await stores.credentials.listByUserHandle(account?.userHandle ?? standInHandle);
      return { account, credentials: account === null ? [] : credentials };
    },
  };
}

/** Contract tests for the optional `SignInStore` (see its doc comment in `@passgate/core`). */
export function describeSignInStoreContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('SignInStore (optional; without one, the separate calls the core makes)', () => {
    const reads = () => ctx.stores().signIn ?? separateSignInReads(ctx.stores());
    const consumeForSignIn = (ceremonyId: string, credentialId: string) =>
      reads().consumeForSignIn(ceremonyId, credentialId);
    const pending = async (value: string, ttlMs = LONG_TTL_MS) => {
      const id = randomCeremonyId();
      expect(await ctx.stores().challenges.put(id, value, ttlMs)).toBe(true);
      return id;
    };

    it('reads through the very stores it is given with (readsFrom), or is absent', () => {
      const stores = ctx.stores();
      if (stores.signIn === undefined) return;
      const from = stores.signIn.readsFrom;
      expect(from?.challenges === stores.challenges, 'readsFrom.challenges is stores.challenges').toBe(true);
      expect(from?.credentials === stores.credentials, 'readsFrom.credentials is stores.credentials').toBe(
        true,
      );
      expect(from?.accounts === stores.accounts, 'readsFrom.accounts is stores.accounts').toBe(true);
    });

    it('consumes the ceremony and resolves it with the credential and its account', async () => {
      const { account, credentials } = await seedAccount(ctx.stores(), [{}]);
      const credential = credentials[1]!;
      const id = await pending('{"kind":"authentication"}');
      const read = await consumeForSignIn(id, credential.id);
      expect(read.ceremony).toBe('{"kind":"authentication"}');
      expectCredential(read.credential, credential);
      expectAccount(read.account, account);
      expect(await ctx.stores().challenges.consume(id), 'the ceremony is gone').toBeNull();
    });

    it('is single-use: a second call resolves no ceremony, and still the credential and account', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      const credential = credentials[0]!;
      const id = await pending('once');
      expect((await consumeForSignIn(id, credential.id)).ceremony).toBe('once');
      const again = await consumeForSignIn(id, credential.id);
      expect(again.ceremony).toBeNull();
      expectCredential(again.credential, credential);
      expectAccount(again.account, account);
    });

    it('consumes the ceremony also when the credential is unknown (credential and account null)', async () => {
      const id = await pending('unknown credential');
      const read = await consumeForSignIn(id, randomCredentialId());
      expect(read.ceremony).toBe('unknown credential');
      expect(read.credential).toBeNull();
      expect(read.account).toBeNull();
      expect(await ctx.stores().challenges.consume(id), 'the ceremony is gone').toBeNull();
    });

    it('compares credential ids over their full length and case-sensitively', async () => {
      // 18 bytes: 24 base64url characters, so any last character, a 20-character prefix (15 bytes)
      // and the case-swapped id are all canonical ids too.
      const { credentials } = await seedAccount(ctx.stores(), [], { id: randomCredentialId(18) });
      const id = credentials[0]!.id;
      const lastChanged = id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A');
      const swapped = [...id]
        .map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()))
        .join('');
      for (const other of [id.slice(0, 20), lastChanged, swapped]) {
        if (other === id) continue;
        const read = await consumeForSignIn(randomCeremonyId(), other);
        expect(read.credential, `credential for ${other}`).toBeNull();
        expect(read.account).toBeNull();
      }
    });

    it('returns fresh copies: mutating them changes nothing stored', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      const credential = credentials[0]!;
      const read = await consumeForSignIn(randomCeremonyId(), credential.id);
      read.credential!.publicKey[0] = (read.credential!.publicKey[0]! + 1) & 0xff;
      read.credential!.transports.push('nfc');
      read.credential!.createdAt.setTime(0);
      read.account!.createdAt.setTime(0);
      read.account!.username = 'changed';
      const again = await consumeForSignIn(randomCeremonyId(), credential.id);
      expectCredential(again.credential, credential);
      expectAccount(again.account, account);
    });

    it('reads the credential as it is now (after a sign-in update and a new credential)', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      const first = credentials[0]!;
      const lastUsedAt = new Date(first.createdAt.getTime() + 1000);
      await ctx.stores().credentials.updateAfterSignIn({
        id: first.id,
        expectedCounter: first.counter,
        counter: first.counter + 5,
        backedUp: !first.backedUp,
        lastUsedAt,
      });
      const read = await consumeForSignIn(randomCeremonyId(), first.id);
      expectCredential(read.credential, {
        ...first,
        counter: first.counter + 5,
        backedUp: !first.backedUp,
        lastUsedAt,
      });
      const added = makeCredential({ userHandle: account.userHandle });
      await ctx.stores().credentials.create(added);
      expectCredential((await consumeForSignIn(randomCeremonyId(), added.id)).credential, added);
    });

    it('reads no credential or account once the account is deleted', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      await ctx.stores().accounts.delete(account.userHandle);
      const read = await consumeForSignIn(randomCeremonyId(), credentials[0]!.id);
      expect(read.credential).toBeNull();
      expect(read.account).toBeNull();
    });

    it(
      'an expired ceremony resolves null (and the credential is still read)',
      async () => {
        const { credentials } = await seedAccount(ctx.stores());
        const id = await pending('short', ctx.ttlMs);
        await sleep(ctx.ttlMs + ctx.ttlSlackMs);
        const read = await consumeForSignIn(id, credentials[0]!.id);
        expect(read.ceremony, 'expired ceremony').toBeNull();
        expectCredential(read.credential, credentials[0]!);
      },
      ctx.ttlMs + ctx.ttlSlackMs + 10_000,
    );

    it('findForSignIn resolves the account by username and its credentials, oldest first', async () => {
      const base = Date.now() - 60_000;
      const { account, credentials } = await seedAccount(
        ctx.stores(),
        [{ createdAt: new Date(base + 2000) }, { createdAt: new Date(base + 1000) }],
        { createdAt: new Date(base + 3000) },
      );
      const found = await reads().findForSignIn(account.username, randomUserHandle());
      expectAccount(found.account, account);
      expect(found.credentials.map((c) => c.id)).toEqual([
        credentials[2]!.id,
        credentials[1]!.id,
        credentials[0]!.id,
      ]);
      expectCredential(found.credentials[0], credentials[2]!);
    });

    it('findForSignIn: an account without credentials, an unknown username, a username in another case', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      await ctx.stores().credentials.delete(account.userHandle, credentials[0]!.id, { allowLast: true });
      const bare = await reads().findForSignIn(account.username, randomUserHandle());
      expectAccount(bare.account, account);
      expect(bare.credentials).toEqual([]);
      const unknown = await reads().findForSignIn(`${account.username}-nobody`, randomUserHandle());
      expect(unknown).toEqual({ account: null, credentials: [] });
      const other = await seedAccount(ctx.stores());
      expect(
        (await reads().findForSignIn(other.account.username.toUpperCase(), randomUserHandle())).account,
      ).toBeNull();
    });

    it('findForSignIn returns fresh copies', async () => {
      const { account, credentials } = await seedAccount(ctx.stores());
      const found = await reads().findForSignIn(account.username, randomUserHandle());
      found.account!.username = 'changed';
      found.credentials[0]!.transports.push('nfc');
      found.credentials[0]!.createdAt.setTime(0);
      const again = await reads().findForSignIn(account.username, randomUserHandle());
      expectAccount(again.account, account);
      expectCredential(again.credentials[0], credentials[0]!);
    });

    it('of concurrent calls (and consumes) for one ceremony, exactly one gets its value', async () => {
      const { credentials } = await seedAccount(ctx.stores());
      const id = await pending('prize');
      const { fulfilled, rejectedCodes } = settle(
        await concurrently(ctx.concurrency, (i) =>
          i % 5 === 4
            ? ctx.stores().challenges.consume(id)
            : consumeForSignIn(id, credentials[0]!.id).then((read) => read.ceremony),
        ),
      );
      expect(rejectedCodes).toEqual([]);
      expect(fulfilled.filter((v) => v !== null)).toEqual(['prize']);
    });
  });
}
