import type { ServerResponse } from 'node:http';
import type { ContractResponse } from '../http/types.js';

/**
 * Adds `Set-Cookie` values after those already set (by a session layer, or the app), rather than
 * replacing them.
 */
export function appendSetCookie(res: ServerResponse, values: readonly string[]): void {
  const previous = res.getHeader('set-cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('set-cookie', [...list, ...values]);
}

/**
 * Writes a `ContractResponse` verbatim on a Node.js response (Express's and Fastify's raw response
 * alike): status, headers, every `Set-Cookie` value (appended, so cookies set by the session layer
 * survive) and the JSON body, or no body. No ETag, no content negotiation: what the contract layer
 * decided is what goes out.
 */
export function writeContractResponse(res: ServerResponse, response: ContractResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.cookies.length > 0) appendSetCookie(res, response.cookies);
  if (response.body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
