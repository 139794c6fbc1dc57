import { createHmac } from 'node:crypto';
import type { AuthenticatorTransport } from './types.js';

/**
 * Decoy `allowCredentials` for a username that has no account, so username-first options look the
 * same for every username: one to three ids with the lengths and transports real authenticators
 * report (platform passkeys, password managers, security keys), each picked by an HMAC of the
 * username under the server secret — the same on every call, unguessable without the secret.
 */
const ID_LENGTHS = [16, 20, 32, 48, 64];
const TRANSPORT_SETS: AuthenticatorTransport[][] = [
  ['hybrid', 'internal'],
  ['hybrid', 'internal'],
  ['internal'],
  ['usb'],
  ['nfc', 'usb'],
];

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
    const transports = TRANSPORT_SETS[
      (seed[4 + i] as number) % TRANSPORT_SETS.length
    ] as AuthenticatorTransport[];
    decoys.push({ id: block.subarray(0, length).toString('base64url'), transports: [...transports] });
  }
  return decoys;
}

function hmac(secret: Uint8Array, message: string): Buffer {
  return createHmac('sha256', secret).update(message, 'utf8').digest();
}
