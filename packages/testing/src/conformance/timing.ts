import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How the suite's real-time checks read the clock and wait. They run in adapters' CI, often on slow
 * shared machines where a call or a timer can be late by hundreds of milliseconds, so a check may
 * only conclude what the measured times prove:
 *
 * - "gone after": lateness only makes these stronger, so the wait is measured from the put's answer
 *   (the store took the put no later than that) and may run as late as it likes.
 * - "still pending": the store took the put no earlier than the moment it was sent and answered the
 *   consume no later than the moment the answer arrived, so only a consume answered within the
 *   allowed time of the put being sent proves anything. A later one is inconclusive; it is retried
 *   with fresh ids a bounded number of times ({@link ATTEMPTS}), then fails as a machine too slow to
 *   check rather than as a broken store.
 *
 * `performance.now()` and not `Date.now()`: it is monotonic, and the clock tests move `Date.now`.
 */
export const now = (): number => performance.now();

/** How often an inconclusive check is tried (with fresh ids) before it fails as "too slow to check". */
export const ATTEMPTS = 3;

/**
 * Waits until `now() >= at`. A timer may fire a little early by `performance.now()` (the event
 * loop's clock lags it), so it waits again for any rest.
 */
export async function sleepUntil(at: number): Promise<void> {
  for (let rest = at - now(); rest > 0; rest = at - now()) await sleep(Math.ceil(rest));
}

/** A call's result, with when it was sent and when its answer arrived (`now()`). */
export interface Timed<T> {
  value: T;
  sentAt: number;
  answeredAt: number;
}

export async function timed<T>(call: () => Promise<T>): Promise<Timed<T>> {
  const sentAt = now();
  const value = await call();
  return { value, sentAt, answeredAt: now() };
}

const ms = (n: number) => `${Math.round(n)} ms`;

/**
 * The failure for a check that stayed inconclusive in every one of its attempts: `what` could not be
 * checked because `why` (with the amounts); `remedy`, if any, is the option that gives it more room.
 */
export function tooSlowToCheck(what: string, why: string, remedy?: string): Error {
  return new Error(
    `this machine was too slow to check that ${what}: ${why}, in each of ${ATTEMPTS} attempts, so the ` +
      `store's answers prove nothing. Run the suite on a less loaded machine${remedy ? `, or ${remedy}` : ''}.`,
  );
}

export { ms as formatMs };
