import { isPassgateError, NETWORK_ERROR_CODES, storeUnavailable } from '@passgate/core';

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
 * Errors that mean "Redis cannot answer right now" become `store_unavailable` with the original
 * error as its `cause` (see `isUnavailable`): our own deadline, a refused/closed/reset connection,
 * ioredis's "Connection is closed", "Stream isn't writeable ...", `MaxRetriesPerRequestError`,
 * cluster and sentinel connection failures, and the server's transient states `LOADING`, `BUSY`,
 * `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `READONLY`, and a server that cannot take writes (`OOM`,
 * `MISCONF`). Anything else (`WRONGTYPE`, `NOPERM`, a
 * script error, a bug) propagates unchanged: answering 503 would hide it behind "try again later".
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
    if (isPassgateError(error) || !isUnavailable(error)) throw error;
    throw storeUnavailable(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Server error replies that mean "not now" rather than "never": the node is starting, busy, failing over. */
const TRANSIENT_REPLY = /^-?(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|OOM|MISCONF)\b/;

/**
 * The same, reported from inside a script: Redis 7 keeps the error's code in front
 * (`READONLY ... script: ...`), older servers wrap it (`ERR Error running script ... -READONLY ...`).
 */
const TRANSIENT_IN_SCRIPT =
  /^ERR Error running script.*-(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|OOM|MISCONF)\b/s;

/** ioredis's own messages for a connection (or cluster/sentinel topology) that is not usable. */
const CLIENT_UNAVAILABLE = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Command timed out/,
  /^Command aborted due to connection close/,
  /^Connection is (discarded|aborted)/,
  /^Socket timeout/,
  /^connect ETIMEDOUT/,
  /^Cluster (is disconnected|is disconnecting|is ended|isn't ready)/,
  /^None of startup nodes is available/,
  /^Failed to refresh slots cache/,
  /^Node is disconnected/,
  /^No master node is available/,
  /^Too many Cluster redirections/,
  /^All sentinels are unreachable/,
  /^Reached the max retries per request limit/,
  // rate-limiter-flexible's own, with `rejectIfRedisNotReady` while the client is not connected.
  /^Redis connection is not ready/,
];

const UNAVAILABLE_ERROR_NAMES = new Set([
  'RedisCommandTimeoutError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
]);

/**
 * Whether an error from the client means Redis is unreachable, too slow or in a transient state.
 * Exported as `isUnavailableError` (as `@passgate/postgres` names its own), so an application can
 * classify its other Redis-backed parts (a session store) the way the stores do.
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_ERROR_NAMES.has(error.name) || error instanceof RedisCommandTimeoutError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  const message = error.message;
  return (
    TRANSIENT_REPLY.test(message) ||
    TRANSIENT_IN_SCRIPT.test(message) ||
    CLIENT_UNAVAILABLE.some((pattern) => pattern.test(message))
  );
}
