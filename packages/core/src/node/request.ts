import type { IncomingMessage } from 'node:http';
import { readLimitedStream } from '../http/read-stream.js';
import type { ContractBody, ContractRequest } from '../http/types.js';

/** What the framework knows about a request that Node's `IncomingMessage` does not say by itself. */
export interface NodeRequestInfo {
  /**
   * `https` makes the ceremony cookie `Secure` (under `secureCookies: 'auto'`). As the framework
   * resolves it behind proxies (Express's `req.protocol`, Fastify's `request.protocol`). Default:
   * `https` when the socket itself is TLS.
   */
  protocol?: 'http' | 'https' | undefined;
  /** The client's IP as the app's proxy settings resolve it (`req.ip`), for the per-IP rate limit. */
  ip?: string | undefined;
  /**
   * What a body parser of the host app made of the body, used when that parser already read the
   * stream (`bodyAlreadyRead`); e.g. Express's `req.body`.
   */
  parsedBody?: unknown;
}

/**
 * Whether a body parser of the host app (e.g. a global `express.json()`) already read the stream.
 * Then its result is used as is; otherwise the body is read here, bounded, so the integration never
 * depends on (or changes) how the app parses bodies elsewhere.
 */
export function bodyAlreadyRead(req: IncomingMessage): boolean {
  return req.readableEnded || (req as { _body?: unknown })._body === true;
}

function contractBody(req: IncomingMessage, parsed: unknown): ContractBody {
  if (bodyAlreadyRead(req)) return { kind: 'parsed', value: parsed };
  return { kind: 'stream', read: (limit) => readLimitedStream(req, limit) };
}

/**
 * The framework-neutral request of a Node.js request: Node's already lower-cased headers, the path
 * below the prefix, the client IP and protocol as the framework resolved them, and the body (read
 * here, bounded, unless a host parser read it already). `session` may be a function the handler calls
 * after the request-shape checks (see `ContractRequest.session`).
 */
export function toContractRequest(
  req: IncomingMessage,
  path: string,
  session: ContractRequest['session'],
  info: NodeRequestInfo = {},
): ContractRequest {
  const tls = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return {
    method: req.method ?? 'GET',
    path,
    headers: req.headers,
    protocol: info.protocol ?? (tls ? 'https' : 'http'),
    ip: info.ip,
    body: contractBody(req, info.parsedBody),
    session,
  };
}

/** A request URL's path (from the server root), without the query string or fragment. */
export function requestPath(url: string | undefined): string {
  const value = url ?? '/';
  const end = value.search(/[?#]/);
  return end === -1 ? value : value.slice(0, end);
}
