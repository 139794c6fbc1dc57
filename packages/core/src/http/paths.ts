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
