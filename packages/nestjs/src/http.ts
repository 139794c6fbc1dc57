import type { Request } from 'express';

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
