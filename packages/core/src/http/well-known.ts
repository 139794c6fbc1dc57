import type { RequestContext } from '../config.js';
import type { Passgate } from '../passgate.js';
import { errorResponse } from './responses.js';
import type { ContractRequest, ContractResponse } from './types.js';

/** Where browsers look for related origins: at the site root of the RP ID, outside any prefix. */
export const WELL_KNOWN_WEBAUTHN_PATH = '/.well-known/webauthn';

/**
 * `GET /.well-known/webauthn` (contract 1.1): `200 { "origins": [...] }`, the configured related
 * origins for this request's host in their order. Resolves `null` when the request is anything else,
 * or when no related origins are configured (the framework goes on, and answers 404).
 *
 * @param request The request with `path` as the full path from the server root (no query string).
 */
export function wellKnownWebauthn(
  passgate: Passgate,
  request: Pick<ContractRequest, 'method' | 'path' | 'headers' | 'ip'>,
): ContractResponse | null {
  const method = request.method.toUpperCase();
  if (request.path !== WELL_KNOWN_WEBAUTHN_PATH || (method !== 'GET' && method !== 'HEAD')) return null;
  const host = request.headers['host'];
  const context: RequestContext = {
    ...(request.ip !== undefined ? { ip: request.ip } : {}),
    ...(typeof host === 'string' ? { host } : {}),
  };
  let origins: string[];
  try {
    origins = passgate.runtime.relatedOrigins(context);
  } catch (error) {
    return errorResponse(error, passgate.runtime.logger);
  }
  if (origins.length === 0) return null;
  return {
    status: 200,
    // Public data that changes with deployments only; a short cache spares the origin server.
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    cookies: [],
    body: { origins },
  };
}
