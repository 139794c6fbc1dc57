import { createHash } from 'node:crypto';

/** Authenticator data flag bits (WebAuthn §6.1). */
export const AUTHENTICATOR_DATA_FLAGS = Object.freeze({
  UP: 0x01,
  UV: 0x04,
  BE: 0x08,
  BS: 0x10,
  AT: 0x40,
  ED: 0x80,
});

/** Flag values to write; each `true` sets the bit, anything else leaves it clear. */
export interface AuthenticatorDataFlags {
  up?: boolean;
  uv?: boolean;
  be?: boolean;
  bs?: boolean;
  at?: boolean;
  ed?: boolean;
}

/** Attested credential data (WebAuthn §6.5.1), present at registration. */
export interface AttestedCredentialDataInput {
  /** 16 bytes. */
  aaguid: Uint8Array;
  credentialId: Uint8Array;
  /** Encoded COSE_Key. */
  cosePublicKey: Uint8Array;
}

/** Everything that goes into an authenticator data structure, for building valid or forged ones. */
export interface AuthenticatorDataInput {
  /** 32 bytes, normally SHA-256 of the RP ID. */
  rpIdHash: Uint8Array;
  flags: AuthenticatorDataFlags;
  /** Written as an unsigned 32-bit big-endian integer (taken modulo 2^32). */
  counter: number;
  /** Appended after the counter when given (independently of the AT flag, so mismatches can be forged). */
  attestedCredentialData?: AttestedCredentialDataInput;
  /** Already CBOR-encoded extension outputs map, appended when given (independently of the ED flag). */
  extensions?: Uint8Array;
  /** Raw bytes appended at the very end (a forgery: relying parties must reject leftover bytes). */
  trailingBytes?: Uint8Array;
}

/** SHA-256 of the UTF-8 RP ID, as stored in the first 32 bytes of authenticator data. */
export function rpIdHash(rpId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(rpId, 'utf8').digest());
}

/** Packs flag booleans into the flags byte. */
export function encodeFlags(flags: AuthenticatorDataFlags): number {
  let byte = 0;
  if (flags.up) byte |= AUTHENTICATOR_DATA_FLAGS.UP;
  if (flags.uv) byte |= AUTHENTICATOR_DATA_FLAGS.UV;
  if (flags.be) byte |= AUTHENTICATOR_DATA_FLAGS.BE;
  if (flags.bs) byte |= AUTHENTICATOR_DATA_FLAGS.BS;
  if (flags.at) byte |= AUTHENTICATOR_DATA_FLAGS.AT;
  if (flags.ed) byte |= AUTHENTICATOR_DATA_FLAGS.ED;
  return byte;
}

/**
 * Serialises authenticator data: `rpIdHash(32) || flags(1) || signCount(4, BE)` then, when given,
 * `aaguid(16) || credentialIdLength(2, BE) || credentialId || COSE_Key`, extensions and trailing
 * bytes. Nothing is validated, so any field can be forged: a credential ID longer than 65535 bytes
 * is written in full while its 2-byte length field wraps around.
 */
export function buildAuthenticatorData(input: AuthenticatorDataInput): Uint8Array<ArrayBuffer> {
  const head = Buffer.alloc(37);
  Buffer.from(input.rpIdHash).copy(head, 0, 0, 32);
  head[32] = encodeFlags(input.flags);
  head.writeUInt32BE(((input.counter % 0x100000000) + 0x100000000) % 0x100000000, 33);
  const parts: Uint8Array[] = [input.rpIdHash.length === 32 ? head : fixHashLength(head, input.rpIdHash)];
  const acd = input.attestedCredentialData;
  if (acd) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(acd.credentialId.length & 0xffff, 0);
    parts.push(acd.aaguid, len, acd.credentialId, acd.cosePublicKey);
  }
  if (input.extensions) parts.push(input.extensions);
  if (input.trailingBytes) parts.push(input.trailingBytes);
  return new Uint8Array(Buffer.concat(parts));
}

/** An rpIdHash of the wrong length is written as given (a forgery); the rest follows it directly. */
function fixHashLength(head: Buffer, hash: Uint8Array): Uint8Array {
  return Buffer.concat([hash, head.subarray(32)]);
}

/** Parses a UUID string (with or without hyphens) into the 16-byte AAGUID wire form. */
export function aaguidToBytes(aaguid: string): Uint8Array<ArrayBuffer> {
  const hex = aaguid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`Invalid AAGUID (expected a UUID): ${aaguid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
