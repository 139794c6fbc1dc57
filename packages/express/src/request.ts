import type { SignIn } from '@passgate/core';
import type { ContractBody, ContractRequest } from '@passgate/core/http';
import { readLimitedStream } from '@passgate/core/http';
import type { Request } from 'express';

/**
 * Whether a body parser of the host app (e.g. a global `express.json()`) already read the stream.
 * Then its `req.body` is used as is; otherwise the router reads the raw body itself, bounded, so it
 * never depends on (or changes) how the app parses bodies elsewhere.
 */
export function bodyAlreadyRead(req: Request): boolean {
  return req.readableEnded || (req as { _body?: unknown })._body === true;
}

function contractBody(req: Request): ContractBody {
  if (bodyAlreadyRead(req)) return { kind: 'parsed', value: req.body };
  return { kind: 'stream', read: (limit) => readLimitedStream(req, limit) };
}

/**
 * The framework-neutral request: `req.ip` (so Express's `trust proxy` decides which address is the
 * client's, for the per-IP rate limit), `req.protocol` (https makes the ceremony cookie Secure),
 * Node's already lower-cased headers, and the path below the prefix. `session` may be a function the
 * handler calls after the request-shape checks (see `ContractRequest.session`).
 */
export function toContractRequest(
  req: Request,
  path: string,
  session: SignIn | null | (() => Promise<SignIn | null>),
): ContractRequest {
  return {
    method: req.method,
    path,
    headers: req.headers,
    protocol: req.protocol === 'https' ? 'https' : 'http',
    ip: req.ip,
    body: contractBody(req),
    session,
  };
}

/** The request's full path from the app's root, whatever path the router was mounted at. */
export function fullPath(req: Request): string {
  return `${req.baseUrl}${req.path}`;
}

/** The path below `prefix`, or `undefined` when the request is not under it. */
export function pathBelow(prefix: string, path: string): string | undefined {
  if (prefix === '/') return path;
  if (path === prefix) return '/';
  if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  return undefined;
}
