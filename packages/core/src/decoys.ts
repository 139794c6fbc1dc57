import { createHmac } from 'node:crypto';
import type { AuthenticatorTransport } from './types.js';

/**
 * Decoys for a username that has no account, so username-first options look the same for every
 * username. Everything is drawn from an HMAC of the username under the server secret: the same on
 * every call, unguessable without the secret.
 *
 * The shape of a decoy list is drawn from what real lists look like, so the shape tells nothing:
 * - count: mostly 1..3 (most people have one to three passkeys), with a tail up to the account cap
 *   (real lists hold up to `maxCredentialsPerAccount`);
 * - id length: mostly the lengths common authenticators produce (16: many security keys and
 *   password managers, 20: iCloud Keychain, 32: Google Password Manager, Windows Hello and most
 *   FIDO2 keys, 48, 64: U2F-style key handles), otherwise any length in 16..64 bytes;
 * - transports: what browsers report for platform authenticators, phones, security keys, and
 *   `[]` (older browsers and credentials registered without `getTransports()`).
 */

/** `[weight, value]` pairs: drawn with probability weight / sum. */
type Weighted<T> = readonly (readonly [number, T])[];

const COMMON_ID_LENGTHS: Weighted<number> = [
  [20, 16],
  [20, 20],
  [35, 32],
  [5, 48],
  [20, 64],
];
/** Share of ids with a common length; the rest take any length in 16..64. */
const COMMON_ID_LENGTH_SHARE = 0.75;
export const DECOY_ID_BYTES = { min: 16, max: 64 } as const;

export const DECOY_TRANSPORTS: Weighted<readonly AuthenticatorTransport[]> = [
  [30, ['hybrid', 'internal']],
  [15, ['internal']],
  [10, []],
  [10, ['usb']],
  [15, ['nfc', 'usb']],
  [5, ['hybrid']],
  [5, ['ble', 'hybrid']],
  [5, ['ble', 'nfc', 'usb']],
  [5, ['hybrid', 'internal', 'usb']],
];

/** Counts 1..3 with these weights; the remaining share is spread evenly over 4..maxCount. */
const SMALL_COUNTS: Weighted<number> = [
  [55, 1],
  [25, 2],
  [10, 3],
];
const SMALL_COUNT_SHARE = 0.9;

export interface DecoyCredential {
  id: string;
  transports: AuthenticatorTransport[];
}

/** The decoy `allowCredentials` for `username` (canonical), at most `maxCount` (>= 1) entries. */
export function decoyCredentials(secret: Uint8Array, username: string, maxCount = 25): DecoyCredential[] {
  const draw = new DeterministicDraws(secret, `passgate/decoy/v2\u0000${username}`);
  const count =
    maxCount <= 3 || draw.unit() < SMALL_COUNT_SHARE
      ? Math.min(maxCount, draw.weighted(SMALL_COUNTS))
      : 4 + draw.below(maxCount - 3);
  const decoys: DecoyCredential[] = [];
  for (let i = 0; i < count; i++) {
    const length =
      draw.unit() < COMMON_ID_LENGTH_SHARE
        ? draw.weighted(COMMON_ID_LENGTHS)
        : DECOY_ID_BYTES.min + draw.below(DECOY_ID_BYTES.max - DECOY_ID_BYTES.min + 1);
    const transports = [...draw.weighted(DECOY_TRANSPORTS)];
    decoys.push({ id: draw.bytes(length).toString('base64url'), transports });
  }
  return decoys;
}

/**
 * A stable stand-in user handle (32 bytes, like real ones) for a username without an account. It
 * keys that username's failure bucket, and `login/options` looks its credentials up as it would a
 * real account's, so an unknown username costs the same store round trips as a known one.
 */
export function decoyUserHandle(secret: Uint8Array, username: string): string {
  return hmac(secret, `passgate/decoy-user/v1\u0000${username}`).toString('base64url');
}

/** An endless stream of HMAC-derived bytes (counter mode), read as numbers. */
class DeterministicDraws {
  #block: Buffer = Buffer.alloc(0);
  #offset = 0;
  #counter = 0;
  constructor(
    private readonly secret: Uint8Array,
    private readonly label: string,
  ) {}

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      if (this.#offset === this.#block.length) {
        this.#block = hmac(this.secret, `${this.label}\u0000${this.#counter++}`);
        this.#offset = 0;
      }
      out[i] = this.#block[this.#offset++] as number;
    }
    return out;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  unit(): number {
    return this.bytes(4).readUInt32BE(0) / 2 ** 32;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.unit() * n);
  }

  weighted<T>(choices: Weighted<T>): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let point = this.unit() * total;
    for (const [weight, value] of choices) {
      point -= weight;
      if (point < 0) return value;
    }
    return (choices[choices.length - 1] as readonly [number, T])[1];
  }
}

function hmac(secret: Uint8Array, message: string): Buffer {
  return createHmac('sha256', secret).update(message, 'utf8').digest();
}
