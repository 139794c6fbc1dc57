import type { PassgateLogger } from './config.js';
import { isPassgateError, NETWORK_ERROR_CODES, PassgateError, storeUnavailable } from './errors.js';

/**
 * What a store or a rate limiter's store threw, as the error to answer (contract 1.1). One
 * classification for both, so a limiter on Redis fails like the stores on Redis:
 * - a `PassgateError` passes through (adapters mark outages with `storeUnavailable`);
 * - a plain error with a Node.js network code (`NETWORK_ERROR_CODES`, on it or its `cause`) is an
 *   outage: `store_unavailable` (503, "try again");
 * - anything else (a missing table, a wrong key type, a permission error) is a deployment fault that
 *   retrying cannot fix: `internal_error` (500) with reason `store_error`.
 * Both of the last two are logged (`operation` and the message; the stack only for a fault), so
 * whoever runs the service sees them.
 */
export function storeFailure(error: unknown, operation: string, logger: PassgateLogger): PassgateError {
  if (isPassgateError(error)) return error;
  const outage = isNetworkError(error);
  logger.error(outage ? 'passgate store unreachable' : 'passgate store call failed', {
    operation,
    error: error instanceof Error ? error.message : String(error),
    ...(!outage && error instanceof Error && error.stack ? { stack: error.stack } : {}),
  });
  return outage
    ? storeUnavailable(error)
    : new PassgateError('internal_error', undefined, { cause: error, reason: 'store_error' });
}

/** A socket or DNS failure (code in `NETWORK_ERROR_CODES`), on the error or its `cause`. */
function isNetworkError(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  return (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) || isNetworkError(cause, depth + 1);
}
