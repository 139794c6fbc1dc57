import { isPassgateError, storeUnavailable } from '@passgate/core';

/** Default for `commandTimeoutMs`: how long one store operation may wait on Redis before failing closed. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

/** The reason (`cause`) of a `store_unavailable` raised because Redis did not answer in time. */
export class RedisCommandTimeoutError extends Error {
  override readonly name = 'RedisCommandTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Runs one store operation (one or a few Redis round trips) against a deadline.
 *
 * Why a timer of our own: the client belongs to the application, and ioredis by default queues
 * commands while disconnected (offline queue) and retries them up to `maxRetriesPerRequest` times,
 * so an operation could otherwise wait for many seconds, or forever with `maxRetriesPerRequest:
 * null`. The race keeps our promise bounded whatever the client's settings; the abandoned command
 * settles later on its own (`Promise.race` keeps a handler on it, so a late rejection is never
 * unhandled). No state survives a failure, so the next call after Redis is back simply works.
 *
 * Every error from the client (refused connection, closed connection, timeout, `CLUSTERDOWN`,
 * `LOADING`, `OOM`, ...) becomes `store_unavailable` with the original error as its `cause`.
 * `PassgateError`s thrown by `operation` itself pass through unchanged.
 */
export async function guard<T>(timeoutMs: number, operation: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisCommandTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(operation), deadline]);
  } catch (error) {
    if (isPassgateError(error)) throw error;
    throw storeUnavailable(error);
  } finally {
    clearTimeout(timer);
  }
}
