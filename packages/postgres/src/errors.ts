import { isPassgateError, NETWORK_ERROR_CODES, storeUnavailable } from '@passgate/core';

/** SQLSTATE codes meaning the database could not do the work now (rather than the request being wrong). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled (statement_timeout, pg_cancel_backend)
  '57P01', // admin_shutdown (pg_terminate_backend, server shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '55P03', // lock_not_available (lock_timeout)
  '40001', // serialization_failure (also raised on a hot standby conflict)
  '40P01', // deadlock_detected
  '25006', // read_only_sql_transaction (writes reaching a standby during failover)
]);

/** Messages node-postgres uses for its own timeouts and broken connections (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Connection closed',
];

/** Whether `err` means "the database cannot be reached or did not answer in time". */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (depth > 3 || typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (code.length === 5 && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code))) return true;
    if (NETWORK_ERROR_CODES.has(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  // Node's happy-eyeballs connect gives an AggregateError whose members carry the codes.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((e) => isUnavailableError(e, depth + 1))) return true;
  return false;
}

/**
 * Maps a database error to what the store interfaces promise: `store_unavailable` for an unreachable
 * or slow database, the error registered for a violated unique constraint, and anything else as is.
 */
export function toStoreError(err: unknown, constraintErrors: ReadonlyMap<string, () => Error>): unknown {
  if (isPassgateError(err)) return err;
  if (typeof err === 'object' && err !== null) {
    const { code, constraint } = err as { code?: unknown; constraint?: unknown };
    if (code === '23505' && typeof constraint === 'string') {
      const make = constraintErrors.get(constraint);
      if (make) return make();
    }
  }
  if (isUnavailableError(err)) return storeUnavailable(err);
  return err;
}

/**
 * A taken user handle or user id at sign-up: random values that collided, a bug rather than a user
 * error (a plain `Error` to callers). Its own class so `create` can tell it apart and still let a taken
 * username or credential id, which the contract ranks first, win when several collide at once.
 */
export class IdentifierCollisionError extends Error {}
