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

export function ceremonyCookie(options: CeremonyCookieOptions, value: string, maxAgeSeconds: number): string {
  return serialize(options.name, value, {
    httpOnly: true,
    sameSite: 'strict',
    path: options.path,
    secure: options.secure,
    maxAge: Math.max(1, Math.ceil(maxAgeSeconds)),
  });
}

export function clearCeremonyCookie(options: CeremonyCookieOptions): string {
  return serialize(options.name, '', {
    httpOnly: true,
    sameSite: 'strict',
    path: options.path,
    secure: options.secure,
    maxAge: 0,
    expires: new Date(0),
  });
}
