import { isPassgateError, PassgateError } from '../errors.js';
import type { ContractRequest, ContractResponse, SessionAction } from './types.js';

/** A JSON answer of the contract: never cached, with its `Set-Cookie` values and session action. */
export function json(
  status: number,
  body: unknown,
  cookies: string[] = [],
  sessionAction?: SessionAction,
): ContractResponse {
  const response: ContractResponse = { status, headers: baseHeaders(true), cookies, body };
  if (sessionAction) response.sessionAction = sessionAction;
  return response;
}

export function baseHeaders(withBody: boolean): Record<string, string> {
  // Options carry challenges and responses carry account data: never cache either.
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (withBody) headers['content-type'] = 'application/json; charset=utf-8';
  return headers;
}

/** The contract's error body for any error; anything that is not a PassgateError is a 500 that says nothing. */
export function errorResponse(
  error: unknown,
  logger?: { error(message: string, fields?: Record<string, unknown>): void },
): ContractResponse {
  const failure = isPassgateError(error)
    ? error
    : new PassgateError('internal_error', undefined, { cause: error });
  if (!isPassgateError(error)) {
    // A bug, not an outcome of the contract: keep the stack for whoever reads the logs.
    logger?.error('passgate request failed', {
      error: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
  }
  const response = json(failure.status, failure.toJSON());
  if (failure.retryAfterSeconds !== undefined)
    response.headers['retry-after'] = String(failure.retryAfterSeconds);
  return response;
}

/** A request header's first value (names are lower-case in a `ContractRequest`). */
export function header(request: Pick<ContractRequest, 'headers'>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
