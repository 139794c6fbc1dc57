import { base64UrlByteLength } from './base64url.js';
import type { CeremonyState } from './ceremony-state.js';
import { isPassgateError, type PassgateError, verificationFailed } from './errors.js';

/**
 * Relying-party checks of WebAuthn §7.1/§7.2 that @simplewebauthn/server leaves to the application
 * (see the notes on what the library checks), shared by both ceremonies.
 */

/** WebAuthn caps credential ids at 1023 bytes; the library accepts longer ones. */
export const MAX_CREDENTIAL_ID_BYTES = 1023;

/** `id` and `rawId` must be the same credential id, and within WebAuthn's size limit. */
export function checkCredentialId(id: string, rawId: string): void {
  if (id !== rawId) throw verificationFailed('id_raw_id_mismatch');
  if (id.length === 0) throw verificationFailed('credential_id_missing');
  if (base64UrlByteLength(id) > MAX_CREDENTIAL_ID_BYTES) throw verificationFailed('credential_id_too_long');
}

export interface ClientData {
  type?: unknown;
  challenge?: unknown;
  origin?: unknown;
  crossOrigin?: unknown;
  topOrigin?: unknown;
}

/** Decodes clientDataJSON (already known to be base64url) as a JSON object. */
export function decodeClientData(clientDataJSON: string): ClientData {
  try {
    const value: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as ClientData;
  } catch {
    // fall through
  }
  throw verificationFailed('client_data_invalid');
}

/**
 * `crossOrigin` / `topOrigin` against configuration (§7.1 step 10, §7.2 step 13): a cross-origin
 * ceremony needs a `topOrigin` that is one of the configured top origins; a same-origin one must not
 * carry a `topOrigin`. The library never reads these on registration and accepts `crossOrigin: true`
 * without `topOrigin` on authentication, so this runs for both.
 */
export function checkCrossOrigin(clientData: ClientData, state: CeremonyState): void {
  const { crossOrigin, topOrigin } = clientData;
  if (crossOrigin !== undefined && typeof crossOrigin !== 'boolean')
    throw verificationFailed('cross_origin_invalid');
  if (topOrigin !== undefined && typeof topOrigin !== 'string')
    throw verificationFailed('top_origin_invalid');
  if (crossOrigin === true) {
    if (topOrigin === undefined) throw verificationFailed('cross_origin_without_top_origin');
    if (!state.topOrigins.includes(topOrigin)) throw verificationFailed('top_origin_not_allowed');
  } else if (topOrigin !== undefined) {
    throw verificationFailed('top_origin_without_cross_origin');
  }
}

/**
 * Maps an exception thrown by @simplewebauthn/server to `verification_failed` with a reason tag.
 * The library's messages can quote the expected challenge, so they go into `cause` only, never into
 * the client's message or a log line.
 */
export function libraryRejection(error: unknown): PassgateError {
  if (isPassgateError(error)) return error;
  const message = error instanceof Error ? error.message : '';
  const reason = REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'response_invalid';
  return verificationFailed(reason, undefined, error);
}

const REASONS: [RegExp, string][] = [
  [/challenge/i, 'challenge_mismatch'],
  [/top origin/i, 'top_origin_not_allowed'],
  [/origin/i, 'origin_mismatch'],
  [/RP ?ID/i, 'rp_id_mismatch'],
  [/response type/i, 'type_mismatch'],
  [/presen/i, 'user_presence_missing'],
  [/verification|verified/i, 'user_verification_missing'],
  [/alg/i, 'algorithm_not_allowed'],
  [/backup|backed up/i, 'backup_flags_invalid'],
  [/leftover|authenticator data|authData/i, 'authenticator_data_invalid'],
  [/cbor|decode/i, 'malformed_data'],
];

/** Reads the UP/UV/BE/BS flags from raw authenticator data (length already checked by the guard). */
export function readFlags(authData: Uint8Array): { up: boolean; uv: boolean; be: boolean; bs: boolean } {
  const flags = authData[32] ?? 0;
  return {
    up: (flags & 0x01) !== 0,
    uv: (flags & 0x04) !== 0,
    be: (flags & 0x08) !== 0,
    bs: (flags & 0x10) !== 0,
  };
}
