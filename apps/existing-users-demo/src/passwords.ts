/**
 * Password hashing with node:crypto's scrypt: no native add-on to build (argon2 and bcrypt need one),
 * a memory-hard function OWASP lists, and Node has shipped it for years. The parameters are stored in
 * each hash, so they can be raised later without invalidating existing passwords.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * OWASP's scrypt settings with the smallest memory (N=2^13, r=8, p=10: 8 MiB per hash): the demo
 * runs several instances on small machines, and the CPU cost is that of the larger-memory settings.
 */
export const SCRYPT_PARAMETERS = { N: 2 ** 13, r: 8, p: 10 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** scrypt reads the whole password; a bound keeps a megabyte "password" from costing more. */
export const MAX_PASSWORD_LENGTH = 256;
export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, options: ScryptOptions, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, bytes, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt base64url>$<key base64url>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = SCRYPT_PARAMETERS;
  const key = await derive(password, salt, SCRYPT_PARAMETERS, KEY_BYTES);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A hash of a random password: checked against when the email is unknown, so timing tells nothing. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored` (constant time). `stored` null (no such user) costs the same
 * as a real check and answers false. A malformed hash answers false.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  decoy ??= hashPassword(randomBytes(16).toString('base64url'));
  const hash = stored ?? (await decoy);
  const [scheme, n, r, p, salt, key] = hash.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    { N: Number(n), r: Number(r), p: Number(p) },
    expected.length,
  );
  return timingSafeEqual(actual, expected) && stored !== null;
}

/** Why a new password is refused, or null. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') return 'Enter a password.';
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  return null;
}
