import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PasskeySession } from '@passgate/core';
import type { FetchSessionHooks } from '@passgate/core/fetch';
import { readCookie } from '@passgate/core/http';

/**
 * Session hooks for `createFetchHandler` that keep sign-ins in memory under a random id, sent to the
 * browser in an HMAC-signed, HttpOnly cookie (default `passgate_test_session`). Sign-in always issues
 * a new id; sign-out deletes the server-side entry, so an old cookie signs nobody in. For tests and
 * examples: a real application keeps its own sessions.
 */
export function memoryCookieSessions(
  options: { cookieName?: string; secret?: string } = {},
): FetchSessionHooks & { readonly size: number } {
  const name = options.cookieName ?? 'passgate_test_session';
  const secret = options.secret ?? randomBytes(32).toString('hex');
  const sessions = new Map<string, PasskeySession>();
  const sign = (id: string) => createHmac('sha256', secret).update(id).digest('base64url');
  const idOf = (request: Request): string | undefined => {
    const value = readCookie(request.headers.get('cookie') ?? undefined, name);
    const [id = '', mac = ''] = (value ?? '').split('.');
    const expected = Buffer.from(sign(id));
    const given = Buffer.from(mac);
    return id && given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  };
  return {
    get size() {
      return sessions.size;
    },
    getSignedInUser(request) {
      const id = idOf(request);
      return (id && sessions.get(id)) || null;
    },
    onSignIn(session, headers, request) {
      const previous = idOf(request);
      if (previous) sessions.delete(previous);
      const id = randomBytes(18).toString('base64url');
      sessions.set(id, session);
      headers.append('set-cookie', `${name}=${id}.${sign(id)}; Path=/; HttpOnly; SameSite=Lax`);
    },
    onSignOut(request, headers) {
      const id = idOf(request);
      if (id) sessions.delete(id);
      headers.append('set-cookie', `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    },
  };
}
