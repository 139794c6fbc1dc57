import type { SignIn } from '@passgate/core';
import type { ContractRequest } from '@passgate/core/http';
import {
  bodyAlreadyRead as nodeBodyAlreadyRead,
  toContractRequest as nodeContractRequest,
} from '@passgate/core/node';
import type { Request } from 'express';

/**
 * Whether a body parser of the host app (e.g. a global `express.json()`) already read the stream.
 * @deprecated Use `bodyAlreadyRead` from `@passgate/core/node` (the same function, for any Node request).
 */
export function bodyAlreadyRead(req: Request): boolean {
  return nodeBodyAlreadyRead(req);
}

/** What Express resolved about a request: `req.ip` and `req.protocol` follow its `trust proxy`. */
export function expressRequestInfo(req: Request): {
  protocol: 'http' | 'https';
  ip: string | undefined;
  parsedBody: unknown;
} {
  // With `trust proxy` off (Express's default) req.ip and req.protocol are the socket's own address
  // and TLS state; read them there, rather than have proxy-addr parse X-Forwarded-For on every
  // passkey request only to ignore it.
  if (req.app?.get('trust proxy') === false) {
    const socket = req.socket as typeof req.socket & { encrypted?: boolean };
    return {
      protocol: socket.encrypted === true ? 'https' : 'http',
      ip: socket.remoteAddress,
      parsedBody: req.body,
    };
  }
  return { protocol: req.protocol === 'https' ? 'https' : 'http', ip: req.ip, parsedBody: req.body };
}

/**
 * The framework-neutral request: `req.ip` (so Express's `trust proxy` decides which address is the
 * client's, for the per-IP rate limit), `req.protocol` (https makes the ceremony cookie Secure),
 * Node's already lower-cased headers, and the path below the prefix.
 * @deprecated Use `toContractRequest(req, path, session, { protocol, ip, parsedBody })` from
 * `@passgate/core/node`.
 */
export function toContractRequest(
  req: Request,
  path: string,
  session: SignIn | null | (() => Promise<SignIn | null>),
): ContractRequest {
  return nodeContractRequest(req, path, session, expressRequestInfo(req));
}

/** The request's full path from the app's root, whatever path the router was mounted at. */
export function fullPath(req: Request): string {
  return `${req.baseUrl}${req.path}`;
}
