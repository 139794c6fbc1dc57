/**
 * A mount prefix in one canonical form: one leading slash, no trailing slash (`passkeys/` →
 * `/passkeys`); `/` for the site root.
 */
export function normalizePrefix(prefix: string): string {
  const trimmed = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  return trimmed === '/' ? '/' : trimmed;
}

/**
 * The path below a normalised `prefix`, or `undefined` when `path` is not under it
 * (`/passkeys/session` below `/passkeys` is `/session`; `/passkeysX` is not below it).
 */
export function pathBelow(prefix: string, path: string): string | undefined {
  if (prefix === '/') return path;
  if (path === prefix) return '/';
  if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  return undefined;
}

/**
 * Where the routes of a normalised `prefix` are mounted for a request whose full path is `path`,
 * when a framework may put a global prefix of its own in front (NestJS's `setGlobalPrefix('api')`),
 * and the path below it: `/api/passkeys/login/options` with prefix `/passkeys` is mount
 * `/api/passkeys` and path `/login/options`. `undefined` when the request is not under it.
 *
 * The root prefix `/` is mount `/` and the whole path: from the path alone, a global prefix in front
 * of it cannot be told from the contract's paths (is `/api/credentials/session` the `session` below
 * `/api/credentials`?). There, take the mount from the framework's routing (Express's `req.baseUrl`,
 * or `locateContractPath` with the route it matched).
 */
export function locatePrefix(prefix: string, path: string): { mount: string; below: string } | undefined {
  if (prefix === '/') return { mount: '/', below: path };
  const at = path.indexOf(`${prefix}/`);
  if (at === -1) return undefined;
  return { mount: path.slice(0, at + prefix.length), below: path.slice(at + prefix.length) };
}
