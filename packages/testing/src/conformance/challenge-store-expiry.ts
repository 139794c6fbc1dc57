import { setTimeout as sleep } from 'node:timers/promises';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { randomCeremonyId } from './fixtures.js';
import { ATTEMPTS, formatMs, sleepUntil, timed, tooSlowToCheck } from './timing.js';

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

/** A consume of a value put with some TTL, and how long after its put was sent the answer came. */
interface Probe {
  value: string | null;
  /** From sending the put to the consume's answer: at least as long as the store kept the value. */
  windowMs: number;
}

/**
 * Contract tests for the TTL rules of `ChallengeStore.put` (its doc comment in `@passgate/core`).
 *
 * Real-time checks, made to hold on a loaded machine (see `./timing.ts`): a value must be gone
 * `ttlSlackMs` after its TTL counted from the put's answer, however late the consume; it must be
 * pending only when the consume was answered less than TTL - `ttlSlackMs` after the put was sent. A
 * consume that could not be answered that soon (a slow store call, a late timer) proves nothing, and
 * is retried with a fresh id, at most {@link ATTEMPTS} times in all, before the test fails as "too
 * slow to check" with the amounts it overran by.
 */
export function describeChallengeStoreExpiry(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('ChallengeStore expiry', () => {
    const store = () => ctx.stores().challenges;
    const slack = ctx.ttlSlackMs;

    /**
     * Consumes `id` so that its answer should arrive a little before `pendingFor` ms after the put
     * was sent: sent that much earlier by the consume's round trip and a tenth of the slack (a
     * timer's usual lateness). The store then reads it close to `pendingFor` after it took the put,
     * which is what catches a TTL shortened by more than the slack. Never earlier than that, not
     * even on a retry: a check made earlier would pass a store whose TTL is short by less.
     */
    const consumeBy = async (id: string, putSentAt: number, pendingFor: number): Promise<Probe> => {
      const roundTrip = await timed(() => store().consume(randomCeremonyId()));
      const leadMs = roundTrip.answeredAt - roundTrip.sentAt + slack / 10;
      await sleepUntil(putSentAt + pendingFor - leadMs);
      const consumed = await timed(() => store().consume(id));
      return { value: consumed.value, windowMs: consumed.answeredAt - putSentAt };
    };

    /** Fails unless the value was there, or the probe took too long to prove it had to be. */
    const expectPendingIfProven = (probe: Probe, value: string, pendingFor: number, ttl: number) => {
      if (probe.value === null && probe.windowMs >= pendingFor) return;
      expect(
        probe.value,
        `still pending ${slack} ms before its TTL (consumed ${formatMs(probe.windowMs)} after the put of ` +
          `its ${ttl} ms TTL was sent)`,
      ).toBe(value);
    };

    it(
      'a value is pending for its TTL and no longer (checked slack before and slack after)',
      async () => {
        // `ttl` is long enough that a store which halves, doubles or rounds the TTL up to whole
        // seconds is seen on one side or the other.
        const ttl = ctx.ttlMs + 2 * slack;
        // The store may expire a value up to `slack` early: before that it must have it.
        const pendingFor = ttl - slack;
        const [before, after, short] = [randomCeremonyId(), randomCeremonyId(), randomCeremonyId()];
        const putBefore = await timed(() => store().put(before, 'before', ttl));
        expect(putBefore.value).toBe(true);
        const putAfter = await timed(() => store().put(after, 'after', ttl));
        expect(putAfter.value).toBe(true);
        const putShort = await timed(() => store().put(short, 'short', ctx.ttlMs));
        expect(putShort.value).toBe(true);
        const first = await consumeBy(before, putBefore.sentAt, pendingFor);
        expectPendingIfProven(first, 'before', pendingFor, ttl);
        // "Gone" is measured from each put's answer: a late consume only makes it more surely gone.
        await sleepUntil(putShort.answeredAt + ctx.ttlMs + slack);
        expect(await store().consume(short), `gone ${slack} ms after its TTL`).toBeNull();
        await sleepUntil(putAfter.answeredAt + ttl + slack);
        expect(await store().consume(after), `gone ${slack} ms after its TTL`).toBeNull();
        // Retried only after the "gone" checks, so that retries never make those late.
        const overruns = [first.windowMs - pendingFor];
        for (let probe = first; probe.value === null; ) {
          if (overruns.length === ATTEMPTS)
            throw tooSlowToCheck(
              `a value is still pending ${slack} ms before its TTL`,
              `the store no longer had the value, but its answer came ${overruns.map(formatMs).join(', ')} ` +
                `later than the ${formatMs(pendingFor)} after sending the put within which it must have had it`,
              'raise ttlSlackMs',
            );
          const id = randomCeremonyId();
          const put = await timed(() => store().put(id, 'before', ttl));
          expect(put.value).toBe(true);
          probe = await consumeBy(id, put.sentAt, pendingFor);
          expectPendingIfProven(probe, 'before', pendingFor, ttl);
          overruns.push(probe.windowMs - pendingFor);
        }
      },
      // The first run, then the pending check's retries: each a put and a wait of under ttl.
      ctx.ttlMs + 4 * slack + ATTEMPTS * (ctx.ttlMs + slack) + 10_000,
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
