import type { PasskeySession } from '@passgate/core';
import type { ContractBody, ContractRequest, ContractResponse } from '@passgate/core/http';
import { readLimitedStream } from '@passgate/core/http';
import type { Request, Response } from 'express';

/** `/passkeys/`, `passkeys` → `/passkeys`; the root stays `/`. (The core normalises the same way.) */
export function normalizePrefix(prefix: string): string {
  const trimmed = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  return trimmed === '/' ? '/' : trimmed;
}

/** The request's path from the server root, without the query string. */
export function requestPath(req: Request): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/**
 * Where the passkey routes of `prefix` are mounted for this request, and the path below it:
 * `/api/passkeys/login/options` with prefix `/passkeys` is mount `/api/passkeys` (Nest's global
 * prefix `api` in front) and path `/login/options`. `undefined` when the request is not under it.
 */
export function locate(prefix: string, path: string): { mount: string; below: string } | undefined {
  if (prefix === '/') return { mount: '/', below: path };
  const at = path.indexOf(`${prefix}/`);
  if (at === -1) return undefined;
  return { mount: path.slice(0, at + prefix.length), below: path.slice(at + prefix.length) };
}

/**
 * Whether a body parser already read the stream (one not skipped on the passkey routes, see
 * `body-parser.ts`). Then its `req.body` is used as is (kind `parsed`); otherwise the contract layer
 * reads the raw body itself, bounded. The same test as `@passgate/express`.
 */
export function bodyAlreadyRead(req: Request): boolean {
  return req.readableEnded || (req as { _body?: unknown })._body === true;
}

function contractBody(req: Request): ContractBody {
  if (bodyAlreadyRead(req)) return { kind: 'parsed', value: req.body };
  return { kind: 'stream', read: (limit) => readLimitedStream(req, limit) };
}

/**
 * The framework-neutral request: `req.ip` (Express's `trust proxy` decides which address is the
 * client's, for the per-IP rate limit), `req.protocol` (https makes the ceremony cookie Secure),
 * Node's lower-cased headers, and the path below the prefix.
 */
export function toContractRequest(
  req: Request,
  below: string,
  session: PasskeySession | null,
): ContractRequest {
  return {
    method: req.method,
    path: below,
    headers: req.headers,
    protocol: req.protocol === 'https' ? 'https' : 'http',
    ip: req.ip,
    body: contractBody(req),
    session,
  };
}

/**
 * Writes a `ContractResponse` verbatim: status, headers, every `Set-Cookie` value (appended, so
 * cookies set by the session layer survive) and the JSON body, or none. Byte for byte what
 * `@passgate/express` writes.
 */
export function writeContractResponse(res: Response, response: ContractResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.cookies.length > 0) res.append('Set-Cookie', response.cookies);
  if (response.body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
