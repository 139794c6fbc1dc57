import { setTimeout as sleep } from 'node:timers/promises';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { randomCeremonyId } from './fixtures.js';

/** The largest TTL the core asks for (`challengeTtlSeconds` is at most 3600). */
const MAX_TTL_MS = 3_600_000;
/** How far this process's clock is moved in the clock tests: far more than any TTL used there. */
const SKEW_MS = 2 * 3_600_000;
const TEN_MINUTES_MS = 10 * 60_000;

/**
 * Runs `call` with this process's `Date.now()` moved by `skewMs`, as on an application server whose
 * clock is wrong. Only `Date.now` moves: timers and the monotonic clock keep running, so clients'
 * timeouts are unaffected.
 */
async function withProcessClockMovedBy<T>(skewMs: number, call: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + skewMs;
  try {
    return await call();
  } finally {
    Date.now = realNow;
  }
}

/** Contract tests for the TTL rules of `ChallengeStore.put` (its doc comment in `@passgate/core`). */
export function describeChallengeStoreExpiry(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('ChallengeStore expiry', () => {
    const store = () => ctx.stores().challenges;
    const slack = ctx.ttlSlackMs;

    it(
      'a value is pending for its TTL and no longer (checked slack before and slack after)',
      async () => {
        // `ttl` is long enough that a store which halves, doubles or rounds the TTL up to whole
        // seconds is seen on one side or the other.
        const ttl = ctx.ttlMs + 2 * slack;
        const [before, after, short] = [randomCeremonyId(), randomCeremonyId(), randomCeremonyId()];
        expect(await store().put(before, 'before', ttl)).toBe(true);
        expect(await store().put(after, 'after', ttl)).toBe(true);
        expect(await store().put(short, 'short', ctx.ttlMs)).toBe(true);
        const started = performance.now();
        await sleep(ttl - slack);
        expect(await store().consume(before), `still pending ${slack} ms before its TTL`).toBe('before');
        expect(await store().consume(short), `gone ${slack} ms after its TTL`).toBeNull();
        await sleep(Math.max(0, ttl + slack - (performance.now() - started)));
        expect(await store().consume(after), `gone ${slack} ms after its TTL`).toBeNull();
      },
      ctx.ttlMs + 4 * slack + 10_000,
    );

    it(
      'takes TTLs from 1 ms (expires at once) to one hour (kept)',
      async () => {
        const [tiny, hour] = [randomCeremonyId(), randomCeremonyId()];
        expect(await store().put(tiny, 'tiny', 1), 'put with ttlMs 1').toBe(true);
        expect(await store().put(hour, 'hour', MAX_TTL_MS), 'put with ttlMs 3 600 000').toBe(true);
        await sleep(slack + 1);
        expect(await store().consume(tiny), 'a 1 ms value after the slack').toBeNull();
        expect(await store().consume(hour), 'a one-hour value').toBe('hour');
      },
      slack + 10_000,
    );

    it("expires by the store's clock: this process's Date.now() being hours off changes nothing", async () => {
      // Put while this process's clock is two hours slow, consume with it right: a store that
      // computed the expiry from the caller's clock would find the value long expired.
      const [slowPut, fastConsume, fastPut] = [randomCeremonyId(), randomCeremonyId(), randomCeremonyId()];
      await withProcessClockMovedBy(-SKEW_MS, async () => {
        expect(await store().put(slowPut, 'slow', TEN_MINUTES_MS), 'put on a slow clock').toBe(true);
      });
      expect(await store().consume(slowPut), 'value put by a process whose clock was slow').toBe('slow');
      // Put with the right clock, consume while this process's clock is two hours fast.
      expect(await store().put(fastConsume, 'fast', TEN_MINUTES_MS)).toBe(true);
      const consumed = await withProcessClockMovedBy(SKEW_MS, () => store().consume(fastConsume));
      expect(consumed, 'value consumed by a process whose clock is fast').toBe('fast');
      // A put on a fast clock must not make an id look free (or pending) to a right clock either.
      await withProcessClockMovedBy(SKEW_MS, async () => {
        expect(await store().put(fastPut, 'first', TEN_MINUTES_MS)).toBe(true);
      });
      expect(await store().put(fastPut, 'second', TEN_MINUTES_MS), 'still pending').toBe(false);
      expect(await store().consume(fastPut)).toBe('first');
    });
  });
}
