import { isPassgateError } from './errors.js';
import { clientKey, PER_IP_REFUSAL, rateLimited } from './rate-limits.js';
import type { Runtime } from './runtime.js';
import type { Counted, CountingStore } from './stores.js';

/**
 * One options or verify request to count against its client IP's per-IP bucket, exactly once: the
 * ceremony counts it, in the same store operation as its write or consume when the stores offer
 * `counting` for the limiter in force (`CountingStore`), otherwise with the limiter before it does
 * anything else. Whoever holds it afterwards (the contract handler) counts it with
 * `Passgate.countRequest` if the ceremony never got that far (a malformed body), so every request is
 * counted and a refusal still wins over the request's own failure, as when the limit came first.
 */
export class RequestCount {
  #state: 'pending' | 'counted' | 'refused' = 'pending';

  constructor(
    /** The client's IP address as the framework sees it (`undefined`: one shared `unknown` bucket). */
    readonly ip: string | undefined,
  ) {}

  /** Not counted yet. */
  get pending(): boolean {
    return this.#state === 'pending';
  }

  /** Counted, and the bucket refused it (`rate_limited`): nothing else was done for the request. */
  get refused(): boolean {
    return this.#state === 'refused';
  }

  /** @internal Marks it counted (before the count is tried: a failed count is not tried again). */
  take(): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = 'counted';
    return true;
  }

  /** @internal */
  refuse(): void {
    this.#state = 'refused';
  }
}

/** Counts `count` with the per-IP limiter, unless already counted; throws `rate_limited` when refused. */
export async function countWithLimiter(runtime: Runtime, count: RequestCount | undefined): Promise<void> {
  if (count === undefined || !count.take()) return;
  try {
    await runtime.telemetry.ipLimit(() => runtime.limits.consumeIp(count.ip));
  } catch (error) {
    if (isPassgateError(error, 'rate_limited')) count.refuse();
    throw error;
  }
}

/**
 * The store operation `call` counted against `count`'s bucket by the counting store (see
 * `CountingStore`): resolves the operation's result, or throws `rate_limited` when the bucket
 * refused the request (the store did nothing else). Store errors are classified as for any store call.
 */
export async function countedInStore<T>(
  runtime: Runtime,
  count: RequestCount,
  operation: string,
  call: (store: CountingStore, key: string) => Promise<Counted<T>>,
): Promise<T> {
  const store = runtime.countingStore as CountingStore;
  count.take();
  const result = await runtime.store(operation, () => call(store, clientKey(count.ip)));
  if (!result.limited) return result.value;
  count.refuse();
  // Through the telemetry's per-IP hook, so the refusal is counted as the limiter's would be.
  return runtime.telemetry.ipLimit(() => Promise.reject(rateLimited(result.msBeforeNext, PER_IP_REFUSAL)));
}

/** Whether `count` is to be counted in the ceremony's store operation (a counting store for the limiter in force). */
export function countsInStore(runtime: Runtime, count: RequestCount | undefined): count is RequestCount {
  return count?.pending === true && runtime.countingStore !== null;
}
