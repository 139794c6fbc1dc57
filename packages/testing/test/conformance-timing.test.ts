import type { ChallengeStore, CountingStore, PassgateStores } from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { describeChallengeStoreExpiry } from '../src/conformance/challenge-store-expiry.js';
import type { StoresHandle, SuiteContext } from '../src/conformance/context.js';
import { describeCountingStoreContract } from '../src/conformance/counting-store.js';
import { createProgrammaticRunner, type TestOutcome, type TestRunner } from '../src/conformance/index.js';
import { describeStoreFailures } from '../src/conformance/store-failures.js';
import { createFlawedStores, type Flaw } from './mutants/flawed-memory-stores.js';

/**
 * The suite's real-time checks on a slow machine: they must pass a correct store whose calls are
 * slow, as a loaded CI runner makes them, and still fail a store that breaks the promise. The stores
 * are the suite's flawed-adapter machinery (a correct in-memory adapter when no flaw is on), wrapped
 * so that their calls take longer, the way a busy machine or network makes them; the checks run on
 * the programmatic runner.
 */

/** The options the mutation test uses: a 1400 ms TTL checked at 1100 ms and gone by 1700 ms. */
function suiteContext(runner: TestRunner, stores: PassgateStores, options: Partial<SuiteContext> = {}) {
  const ctx: SuiteContext = {
    runner,
    stores: () => stores,
    ttlMs: 800,
    ttlSlackMs: 300,
    concurrency: 20,
    unavailableWithinMs: 400,
    unreachable: undefined,
    misconfigured: undefined,
    counting: false,
    renaming: false,
    ...options,
  };
  return ctx;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `challenges` whose put is taken at once but answered `putAnswerMs` later, and whose consume
 * reaches the store only `consumeDelayMs(id)` after it is sent: the two ways a slow machine or
 * network delays a call, each on the side that misleads a check measured from the wrong end.
 */
function slowChallenges(
  challenges: ChallengeStore,
  putAnswerMs: number,
  consumeDelayMs: (id: string) => number,
): ChallengeStore {
  return {
    async put(id, value, ttlMs) {
      const stored = await challenges.put(id, value, ttlMs);
      await wait(putAnswerMs);
      return stored;
    },
    async consume(id) {
      await wait(consumeDelayMs(id));
      return challenges.consume(id);
    },
  };
}

const BOUNDS_TEST = 'a value is pending for its TTL and no longer';

/** Runs the expiry tests (only the bounds test with `boundsOnly`); resolves their outcomes. */
async function runExpiry(stores: PassgateStores, boundsOnly = false): Promise<TestOutcome[]> {
  const { runner, run } = createProgrammaticRunner({ timeoutMs: 60_000 });
  const only: TestRunner = {
    ...runner,
    it: (name, fn, timeoutMs) => {
      if (!boundsOnly || name.includes(BOUNDS_TEST)) runner.it(name, fn, timeoutMs);
    },
  };
  describeChallengeStoreExpiry(suiteContext(only, stores));
  return run();
}

const bounds = (outcomes: TestOutcome[]) => {
  const outcome = outcomes.find((o) => o.name.includes(BOUNDS_TEST));
  if (outcome === undefined) throw new Error(`no test named "${BOUNDS_TEST}"`);
  return outcome;
};
const failures = (outcomes: TestOutcome[]) =>
  outcomes.filter((o) => o.status === 'failed').map((o) => `${o.name}: ${String(o.error)}`);

describe('ChallengeStore expiry on a slow machine', () => {
  // 200 ms on each put's answer and each consume's way in: the three puts then end 600 ms after the
  // first was sent, and a consume sent 1100 ms after the last answer (as the suite did) reached the
  // store 1900 ms after the first put, past its 1400 ms TTL.
  const slowly = (flaw?: Flaw) => {
    const stores = createFlawedStores({ flaw });
    return { ...stores, challenges: slowChallenges(stores.challenges, 200, () => 200) };
  };

  it('passes a correct store whose puts answer late and whose consumes reach it late', async () => {
    const outcomes = await runExpiry(slowly());
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'passed')).toHaveLength(3);
  }, 60_000);

  // Flaws that expire a value early are seen however slow the calls: a consume that reaches the store
  // after the short TTL and is answered within the window proves it, and one answered later is
  // retried until it does (or the test fails as too slow to check, which fails it all the same).
  for (const flaw of ['TTL halved', 'TTL rounded down to whole seconds'] as const) {
    it(`still fails a store where ${flaw}, as slow`, async () => {
      const outcome = bounds(await runExpiry(slowly(flaw), true));
      expect(outcome.status).toBe('failed');
      expect(String(outcome.error)).toMatch(/still pending 300 ms before its TTL|too slow to check/);
    }, 60_000);
  }

  it('fails a machine too slow to check as such, saying by how much, not as a broken store', async () => {
    // A machine whose timers run late for the consumes that matter: each consume of a stored value
    // reaches the store 400 ms after it is sent (the round trip of the suite's consume of an unknown
    // id stays quick), so every attempt reaches it past the 1400 ms TTL and is answered late.
    const stores = createFlawedStores();
    const put = new Set<string>();
    const challenges = slowChallenges(
      {
        put: async (id, value, ttlMs) => {
          put.add(id);
          return stores.challenges.put(id, value, ttlMs);
        },
        consume: (id) => stores.challenges.consume(id),
      },
      0,
      (id) => (put.has(id) ? 400 : 0),
    );
    const outcome = bounds(await runExpiry({ ...stores, challenges }, true));
    expect(outcome.status).toBe('failed');
    expect(String(outcome.error)).toMatch(
      /this machine was too slow to check that a value is still pending 300 ms before its TTL: the store no longer had the value, but its answer came \d+ ms, \d+ ms, \d+ ms later than the 1100 ms .* in each of 3 attempts.*raise ttlSlackMs/,
    );
  }, 60_000);
});

describe('the outage check on a slow machine', () => {
  const OUTAGE = 'every method rejects with store_unavailable';

  /**
   * An adapter over a backend that never answers, whose `store_unavailable` comes from two timers
   * one after the other (its own 20 ms timeout, then 200 ms of cleanup): 220 ms, well within the
   * 400 ms allowed. The first call this process makes also stalls it for 250 ms, as a busy machine
   * does to a test process: each timer of the chain then runs late, and the rejection comes after
   * 400 ms by the wall clock, though the adapter kept to its timeout.
   */
  const stalledOnce = (flaw?: Flaw): (() => StoresHandle) => {
    let stalled = false;
    return () => {
      const stores = createFlawedStores({ flaw, backend: 'hung', timeoutMs: 20 });
      const chained = <T extends object>(store: T): T =>
        Object.fromEntries(
          Object.entries(store).map(([name, method]) => [
            name,
            typeof method !== 'function'
              ? method
              : async (...args: unknown[]) => {
                  if (!stalled) {
                    stalled = true;
                    setTimeout(() => {
                      const until = performance.now() + 250;
                      while (performance.now() < until) {
                        // The process cannot run anything else meanwhile, as on a saturated CPU.
                      }
                    }, 1);
                  }
                  try {
                    return await method.apply(store, args);
                  } catch (error) {
                    await wait(200);
                    throw error;
                  }
                },
          ]),
        ) as T;
      return {
        stores: {
          challenges: chained(stores.challenges),
          credentials: chained(stores.credentials),
          accounts: chained(stores.accounts),
        },
      };
    };
  };

  const runOutage = async (flaw?: Flaw) => {
    const { runner, run } = createProgrammaticRunner({ timeoutMs: 120_000 });
    describeStoreFailures(suiteContext(runner, createFlawedStores(), { unreachable: stalledOnce(flaw) }));
    return run();
  };

  it('passes an adapter that keeps to its timeout while this process stalls', async () => {
    const outcomes = await runOutage();
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.find((o) => o.name.includes(OUTAGE))?.status).toBe('passed');
  }, 120_000);

  it('still fails an adapter that never answers, with the same stall', async () => {
    const outcome = (await runOutage('outage waits forever')).find((o) => o.name.includes(OUTAGE));
    expect(outcome?.status).toBe('failed');
    expect(String(outcome?.error)).toMatch(
      /challenges\.put should reject with store_unavailable within 400 ms, but still pending/,
    );
  }, 120_000);
});

describe("the counting store's window check on a slow machine", () => {
  const WINDOW_TEST = "counts as the limiter's consume does, on the same key";

  it('passes a store whose first read of a window answers 5.5 s late, once', async () => {
    // A stall longer than the 5 s the check allows between opening a window and reading it: the
    // window then has 54.5 s left of its 60, which only the time the read took explains.
    const stores = createFlawedStores();
    const counting = stores.counting as CountingStore;
    let stalled = false;
    const limiter = {
      ...counting.limiter,
      get: async (key: string | number) => {
        if (!stalled) {
          stalled = true;
          await wait(5500);
        }
        return counting.limiter.get(key);
      },
    } as unknown as CountingStore['limiter'];
    const { runner, run } = createProgrammaticRunner({ timeoutMs: 60_000 });
    const only: TestRunner = {
      ...runner,
      it: (name, fn, timeoutMs) => {
        if (name.includes(WINDOW_TEST)) runner.it(name, fn, timeoutMs);
      },
    };
    describeCountingStoreContract(
      suiteContext(only, { ...stores, counting: { ...counting, limiter } }, { counting: true }),
    );
    const outcomes = await run();
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'passed')).toHaveLength(1);
  }, 60_000);
});
