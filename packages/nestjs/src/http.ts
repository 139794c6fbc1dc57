import { locatePrefix } from '@passgate/core/http';
import { requestPath as pathOf } from '@passgate/core/node';
import type { Request } from 'express';

/** The request's path from the server root, without the query string. */
export function requestPath(req: Request): string {
  return pathOf(req.originalUrl ?? req.url);
}

/**
 * Where the contract is mounted for a request that reached middleware Nest mounted on `prefix` on
 * Express, and the path below the mount; `undefined` when it is not under the prefix.
 */
export function locateMount(prefix: string, req: Request): { mount: string; below: string } | undefined {
  // At the root, the path cannot tell Nest's global prefix (`/api`) from the contract's paths: Express
  // has trimmed the path Nest mounted the middleware at into `req.baseUrl`.
  if (prefix === '/') return { mount: req.baseUrl || '/', below: pathOf(req.url) };
  return locatePrefix(prefix, requestPath(req));
}
