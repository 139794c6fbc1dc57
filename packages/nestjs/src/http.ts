import { requestPath as pathOf } from '@passgate/core/node';
import type { Request } from 'express';

/** The request's path from the server root, without the query string. */
export function requestPath(req: Request): string {
  return pathOf(req.originalUrl ?? req.url);
}

/**
 * Whether a mount Nest routed a request to ends in the module's normalised `prefix` as written. Nest
 * matches routes in any case on Express (and on a case-insensitive Fastify router), where the
 * contract's prefix is matched as written, as `@passgate/express` does; the global prefix in front
 * of it is Nest's, in whatever case Nest accepts.
 */
export function endsInPrefix(mount: string, prefix: string): boolean {
  return prefix === '/' || mount.endsWith(prefix);
}

/**
 * Where the contract is mounted for a request that reached middleware Nest mounted on `prefix` on
 * Express, and the path below the mount; `undefined` when it is not under the prefix.
 */
export function locateMount(prefix: string, req: Request): { mount: string; below: string } | undefined {
  // The path cannot tell where Nest mounted the contract: a global prefix may hold the prefix too
  // (`setGlobalPrefix('passkeys')` mounts it at `/passkeys/passkeys`), and at the root it cannot be
  // told from the contract's paths (`/api/session`). Express has trimmed the path Nest mounted the
  // middleware at (the global prefix, unless it excludes the contract, then the prefix) into
  // `req.baseUrl`.
  const mount = req.baseUrl || '/';
  if (!endsInPrefix(mount, prefix)) return undefined;
  return { mount, below: pathOf(req.url) };
}
