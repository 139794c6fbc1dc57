import { createHmac } from 'node:crypto';
import type { AuthenticatorTransport } from './types.js';

/**
 * Decoy `allowCredentials` for a username that has no account, so username-first options look the
 * same for every username: one to three ids of 16 to 64 bytes, derived from the username with an
 * HMAC under the server secret, hence the same on every call and unguessable without the secret.
 */
const ID_LENGTHS = [16, 20, 32, 64];
const DECOY_TRANSPORTS: AuthenticatorTransport[] = ['hybrid', 'internal'];

export function decoyCredentials(
  secret: Uint8Array,
  username: string,
): { id: string; transports: AuthenticatorTransport[] }[] {
  const seed = hmac(secret, `passgate/decoy/v1\u0000${username}`);
  const count = 1 + ((seed[0] as number) % 3);
  const decoys = [];
  for (let i = 0; i < count; i++) {
    const length = ID_LENGTHS[(seed[1 + i] as number) % ID_LENGTHS.length] as number;
    const block = Buffer.concat([
      hmac(secret, `passgate/decoy/v1\u0000${username}\u0000${i}\u0000a`),
      hmac(secret, `passgate/decoy/v1\u0000${username}\u0000${i}\u0000b`),
    ]);
    decoys.push({ id: block.subarray(0, length).toString('base64url'), transports: [...DECOY_TRANSPORTS] });
  }
  return decoys;
}

function hmac(secret: Uint8Array, message: string): Buffer {
  return createHmac('sha256', secret).update(message, 'utf8').digest();
}
