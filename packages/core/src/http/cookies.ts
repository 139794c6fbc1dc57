import { parse, serialize } from 'cookie';

/** The ceremony cookie: HttpOnly, SameSite=Strict, scoped to the mount prefix, Secure on https. */
export interface CeremonyCookieOptions {
  name: string;
  path: string;
  secure: boolean;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  return parse(header)[name];
}

/**
 * The cookie strings differ per request only in the ceremony id: everything else (name, path,
 * attributes, and the whole clearing cookie) is serialized once per options and kept, instead of
 * being validated and joined again (and an `Expires` date formatted) on every options and verify.
 * `cookie.serialize` still makes the first one of each, so its validation of names and paths holds.
 */
interface CookieStrings {
  /** `Max-Age` in seconds → everything after the value. */
  suffixes: Map<number, string>;
  clear: string;
}
const strings = new Map<string, CookieStrings>();
/** Options come from configuration (one or two per handler); the bound only guards a misuse. */
const MAX_CACHED = 64;

function cookieStrings(options: CeremonyCookieOptions): CookieStrings {
  const key = `${options.secure ? 's' : 'p'}${options.path}\u0000${options.name}`;
  let found = strings.get(key);
  if (found === undefined) {
    found = {
      suffixes: new Map(),
      clear: serialize(options.name, '', {
        httpOnly: true,
        sameSite: 'strict',
        path: options.path,
        secure: options.secure,
        maxAge: 0,
        expires: new Date(0),
      }),
    };
    if (strings.size >= MAX_CACHED) strings.clear();
    strings.set(key, found);
  }
  return found;
}

export function ceremonyCookie(options: CeremonyCookieOptions, value: string, maxAgeSeconds: number): string {
  const maxAge = Math.max(1, Math.ceil(maxAgeSeconds));
  const cached = cookieStrings(options);
  let suffix = cached.suffixes.get(maxAge);
  if (suffix === undefined) {
    const sample = serialize(options.name, '', {
      httpOnly: true,
      sameSite: 'strict',
      path: options.path,
      secure: options.secure,
      maxAge,
    });
    suffix = sample.slice(options.name.length + 1);
    if (cached.suffixes.size >= MAX_CACHED) cached.suffixes.clear();
    cached.suffixes.set(maxAge, suffix);
  }
  // What `serialize` does to a value; ceremony ids are base64url, which it leaves as they are.
  return `${options.name}=${encodeURIComponent(value)}${suffix}`;
}

export function clearCeremonyCookie(options: CeremonyCookieOptions): string {
  return cookieStrings(options).clear;
}
