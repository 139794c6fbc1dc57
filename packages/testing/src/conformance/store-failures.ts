import { setTimeout as sleep } from 'node:timers/promises';
import type { PassgateStores } from '@passgate/core';
import { codeOf } from './assertions.js';
import type { StoresHandle, SuiteContext } from './context.js';
import { expect } from './expect.js';
import { makeSignUp, randomCeremonyId } from './fixtures.js';
import { skipWithReason } from './runner.js';

/** One call of every store method, by name. */
export function everyStoreMethod(stores: PassgateStores): Record<string, () => Promise<unknown>> {
  const { account, credential } = makeSignUp();
  const update = {
    id: credential.id,
    expectedCounter: 0,
    counter: 1,
    backedUp: true,
    lastUsedAt: new Date(),
  };
  return {
    'challenges.put': () => stores.challenges.put(randomCeremonyId(), 'value', 60_000),
    'challenges.consume': () => stores.challenges.consume(randomCeremonyId()),
    'credentials.create': () => stores.credentials.create(credential),
    'credentials.findById': () => stores.credentials.findById(credential.id),
    'credentials.listByUserHandle': () => stores.credentials.listByUserHandle(account.userHandle),
    'credentials.updateAfterSignIn': () => stores.credentials.updateAfterSignIn(update),
    'credentials.rename': () => stores.credentials.rename(account.userHandle, credential.id, 'name'),
    'credentials.delete': () =>
      stores.credentials.delete(account.userHandle, credential.id, { allowLast: false }),
    'accounts.findByUserHandle': () => stores.accounts.findByUserHandle(account.userHandle),
    'accounts.findByUserId': () => stores.accounts.findByUserId(account.userId),
    'accounts.findByUsername': () => stores.accounts.findByUsername(account.username),
    'accounts.create': () => stores.accounts.create(account, credential),
    'accounts.delete': () => stores.accounts.delete(account.userHandle),
    ...(stores.accounts.rename
      ? {
          'accounts.rename': () =>
            (stores.accounts.rename as NonNullable<PassgateStores['accounts']['rename']>).call(
              stores.accounts,
              account.userHandle,
              { username: account.username },
            ),
        }
      : {}),
    ...(stores.signIn
      ? {
          'signIn.consumeForSignIn': () =>
            (stores.signIn as NonNullable<PassgateStores['signIn']>).consumeForSignIn(
              randomCeremonyId(),
              credential.id,
            ),
          'signIn.findForSignIn': () =>
            (stores.signIn as NonNullable<PassgateStores['signIn']>).findForSignIn(
              account.username,
              account.userHandle,
            ),
        }
      : {}),
    ...(stores.counting
      ? {
          'counting.putCounted': () =>
            (stores.counting as NonNullable<PassgateStores['counting']>).putCounted(
              '192.0.2.1',
              randomCeremonyId(),
              'value',
              60_000,
            ),
          'counting.consumeForSignInCounted': () =>
            (stores.counting as NonNullable<PassgateStores['counting']>).consumeForSignInCounted(
              '192.0.2.1',
              randomCeremonyId(),
              credential.id,
            ),
        }
      : {}),
  };
}

type Settled =
  | { kind: 'resolved'; value: unknown }
  | { kind: 'rejected'; error: unknown }
  | { kind: 'pending' };

/** How `call` settles within `ms` (or that it is still pending then). */
async function settleWithin(call: () => Promise<unknown>, ms: number): Promise<Settled> {
  const controller = new AbortController();
  const outcome = call().then(
    (value): Settled => ({ kind: 'resolved', value }),
    (error: unknown): Settled => ({ kind: 'rejected', error }),
  );
  const timeout = sleep(ms, { kind: 'pending' } as Settled, { signal: controller.signal }).catch(
    () => ({ kind: 'pending' }) as Settled,
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    controller.abort();
  }
}

const describeOutcome = (s: Settled): string =>
  s.kind === 'pending'
    ? 'still pending'
    : s.kind === 'resolved'
      ? `resolved ${JSON.stringify(s.value) ?? 'undefined'}`
      : `rejected with ${String(codeOf(s.error) ?? s.error)}`;

/**
 * Contract tests for how stores fail (the common rules of `stores.ts`): an unreachable backend is
 * `store_unavailable`, promptly, and never a default answer; a backend that answers with a
 * deployment fault is an error that is *not* `store_unavailable` (contract 1.1: `500 internal_error`).
 * They run when the adapter's test offers the hooks (`unreachable`, `misconfigured`).
 */
export function describeStoreFailures(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  const within = ctx.unavailableWithinMs;

  const withHandle = async (
    open: () => Promise<StoresHandle> | StoresHandle,
    use: (s: PassgateStores) => Promise<void>,
  ) => {
    const handle = await open();
    try {
      await use(handle.stores);
    } finally {
      await handle.close?.();
    }
  };

  describe('store failures', () => {
    const outage =
      'every method rejects with store_unavailable, within unavailableWithinMs, when the store is unreachable';
    const unreachable = ctx.unreachable;
    if (unreachable) {
      it(
        outage,
        () =>
          withHandle(unreachable, async (stores) => {
            // Sequentially, so each method's own time is measured.
            for (const [name, call] of Object.entries(everyStoreMethod(stores))) {
              const outcome = await settleWithin(call, within);
              expect(
                outcome.kind === 'rejected' && codeOf(outcome.error) === 'store_unavailable',
                `${name} should reject with store_unavailable within ${within} ms, but ${describeOutcome(outcome)}`,
              ).toBe(true);
            }
          }),
        16 * within + 10_000,
      );
    } else {
      skipWithReason(ctx.runner, outage, 'no `unreachable` hook given (only for a store inside the process)');
    }

    const fault =
      'every method rejects, but not with store_unavailable, when the store answers with a deployment fault';
    const misconfigured = ctx.misconfigured;
    if (misconfigured) {
      it(
        fault,
        () =>
          withHandle(misconfigured, async (stores) => {
            for (const [name, call] of Object.entries(everyStoreMethod(stores))) {
              const outcome = await settleWithin(call, 10_000);
              expect(
                outcome.kind === 'rejected' && codeOf(outcome.error) !== 'store_unavailable',
                `${name} should reject with an error other than store_unavailable, but ${describeOutcome(outcome)}`,
              ).toBe(true);
              if (outcome.kind === 'rejected') expect(outcome.error, name).toBeInstanceOf(Error);
            }
          }),
        16 * 10_000 + 10_000,
      );
    } else {
      skipWithReason(ctx.runner, fault, 'no `misconfigured` hook given (only for a store without a schema)');
    }
  });
}
