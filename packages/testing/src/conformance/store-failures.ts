import { setTimeout as sleep } from 'node:timers/promises';
import type { PassgateStores } from '@passgate/core';
import { codeOf } from './assertions.js';
import type { StoresHandle, SuiteContext } from './context.js';
import { expect } from './expect.js';
import { makeSignUp, randomCeremonyId } from './fixtures.js';
import { skipWithReason } from './runner.js';
import { ATTEMPTS, formatMs, now, tooSlowToCheck } from './timing.js';

/** At least the number of methods {@link everyStoreMethod} calls, for the tests' timeouts. */
const MAX_METHODS = 20;
/** How long a method may take to reject for a deployment fault: promptness is not its promise. */
const FAULT_WITHIN_MS = 10_000;

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

/** How often {@link settleWithin} looks at the clock, ms: a longer gap means this process stalled. */
const TICK_MS = 10;

/**
 * How `call` settles within `ms` of time this process could run in, or that it is still pending then;
 * `stalledMs` is how long this process could not run meanwhile.
 *
 * On a loaded machine this process itself stalls (its timers and I/O callbacks run late), and the
 * adapter's own timeout runs late with it: a deadline of `ms` by the wall clock would fail an adapter
 * whose rejection was late only because the process was. So the deadline moves by every stall seen
 * (a tick that came more than a tick late), and an answer that arrived during a stall is read before
 * the deadline is checked. When the stalls add up to more than `ms` the check is inconclusive.
 */
async function settleWithin(
  call: () => Promise<unknown>,
  ms: number,
): Promise<{ settled: Settled; stalledMs: number; inconclusive: boolean }> {
  let settled: Settled = { kind: 'pending' };
  const startedAt = now();
  const answered = call().then(
    (value) => {
      settled = { kind: 'resolved', value };
    },
    (error: unknown) => {
      settled = { kind: 'rejected', error };
    },
  );
  let stalledMs = 0;
  let last = startedAt;
  for (;;) {
    const controller = new AbortController();
    await Promise.race([answered, sleep(TICK_MS, undefined, { signal: controller.signal }).catch(() => {})]);
    controller.abort();
    const at = now();
    if (at - last > 2 * TICK_MS) stalledMs += at - last - TICK_MS;
    last = at;
    if (settled.kind !== 'pending') return { settled, stalledMs, inconclusive: false };
    if (stalledMs > ms) return { settled, stalledMs, inconclusive: true };
    if (at - startedAt >= ms + stalledMs) {
      // A turn of the event loop reads any answer that arrived while the timer was due.
      await new Promise((resolve) => setImmediate(resolve));
      return { settled, stalledMs, inconclusive: false };
    }
  }
}

/**
 * {@link settleWithin}, tried again (a fresh call) while it is inconclusive, at most
 * {@link ATTEMPTS} times in all; then it throws, saying by how much this process stalled.
 */
async function settleWithinRetried(name: string, call: () => Promise<unknown>, ms: number): Promise<Settled> {
  const stalls: number[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const { settled, stalledMs, inconclusive } = await settleWithin(call, ms);
    if (!inconclusive) return settled;
    stalls.push(stalledMs);
  }
  throw tooSlowToCheck(
    `${name} settles within ${formatMs(ms)}`,
    `this process could not run for ${stalls.map(formatMs).join(', ')} of it (stalled more than the whole ` +
      `${formatMs(ms)})`,
    'raise unavailableWithinMs',
  );
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
              const outcome = await settleWithinRetried(name, call, within);
              expect(
                outcome.kind === 'rejected' && codeOf(outcome.error) === 'store_unavailable',
                `${name} should reject with store_unavailable within ${within} ms, but ${describeOutcome(outcome)}`,
              ).toBe(true);
            }
          }),
        // Each method's attempts wait at most twice `within` (stalls moving the deadline included).
        MAX_METHODS * ATTEMPTS * 2 * within + 10_000,
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
              const outcome = await settleWithinRetried(name, call, FAULT_WITHIN_MS);
              expect(
                outcome.kind === 'rejected' && codeOf(outcome.error) !== 'store_unavailable',
                `${name} should reject with an error other than store_unavailable, but ${describeOutcome(outcome)}`,
              ).toBe(true);
              if (outcome.kind === 'rejected') expect(outcome.error, name).toBeInstanceOf(Error);
            }
          }),
        MAX_METHODS * ATTEMPTS * 2 * FAULT_WITHIN_MS + 10_000,
      );
    } else {
      skipWithReason(ctx.runner, fault, 'no `misconfigured` hook given (only for a store without a schema)');
    }
  });
}
