import { isPassgateError, NETWORK_ERROR_CODES, storeUnavailable } from '@passgate/core';

/**
 * mysql2 and server error codes that mean "the database could not be reached or did not answer in
 * time": an outage (`store_unavailable`, 503). Everything else (a missing table, a permission
 * error, a bad value) is a deployment fault or a bug, passed on as is (the contract's `500
 * internal_error`), as `docs/custom-adapters.md` asks.
 */
const OUTAGE_CODES: ReadonlySet<string> = new Set([
  ...NETWORK_ERROR_CODES,
  'PROTOCOL_CONNECTION_LOST', // the server closed the connection
  'PROTOCOL_SEQUENCE_TIMEOUT', // a query's `timeout` ran out
  'POOL_CLOSED',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR', // too many connections: the server refuses new ones
  'ER_LOCK_WAIT_TIMEOUT', // a row stayed locked too long: the store did not answer in time
  'ER_QUERY_TIMEOUT',
  'ER_STATEMENT_TIMEOUT',
]);

export function isOutage(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, fatal } = error as { code?: unknown; fatal?: unknown };
  if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
  // mysql2 marks errors that broke the connection itself as fatal (a reset mid-handshake, ...).
  return fatal === true && code !== 'ER_ACCESS_DENIED_ERROR' && code !== 'ER_BAD_DB_ERROR';
}

/** What the store interfaces throw for `error`: Passgate errors as they are, outages as `store_unavailable`. */
export function toStoreError(error: unknown): unknown {
  if (isPassgateError(error)) return error;
  return isOutage(error) ? storeUnavailable(error) : error;
}

/** A duplicate key (`ER_DUP_ENTRY`): another row holds this unique value. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ER_DUP_ENTRY';
}
