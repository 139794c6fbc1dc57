import { isContractPath } from './routes.js';

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
 * The global prefix may hold the prefix too (`setGlobalPrefix('passkeys')`): where the prefix is more
 * than once in the path, the mount is the first place where one of the contract's paths follows it
 * (`/passkeys/passkeys/session` is `/session` below `/passkeys/passkeys`), else the first place.
 * This is only a guess from the path (a route of the app may look the same), for work that may be
 * done for more paths than the contract's; to decide what is served, take the mount from the
 * framework's routing (Express's `req.baseUrl`, or `locateContractPath` with the route it matched).
 *
 * The root prefix `/` is mount `/` and the whole path: from the path alone, a global prefix in front
 * of it cannot be told from the contract's paths (is `/api/credentials/session` the `session` below
 * `/api/credentials`?).
 */
export function locatePrefix(prefix: string, path: string): { mount: string; below: string } | undefined {
  if (prefix === '/') return { mount: '/', below: path };
  const start = `${prefix}/`;
  let first: { mount: string; below: string } | undefined;
  for (let at = path.indexOf(start); at !== -1; at = path.indexOf(start, at + 1)) {
    const located = { mount: path.slice(0, at + prefix.length), below: path.slice(at + prefix.length) };
    if (isContractPath(located.below)) return located;
    first ??= located;
  }
  return first;
}
