import { verificationFailed } from './errors.js';

/**
 * A structural pass over CBOR before `@simplewebauthn/server` decodes it.
 *
 * The library's decoder has no nesting limit, so a small attestation object made of nested arrays can
 * exhaust the stack. This walker only measures items (no values are built), iteratively bounded by
 * depth and item count, and rejects anything malformed, so the library only ever sees CBOR that is
 * well-formed, shallow and small.
 */
export interface CborLimits {
  /** Deepest nesting of arrays, maps and tags. */
  maxDepth: number;
  /** Most data items in total. */
  maxItems: number;
}

export const DEFAULT_CBOR_LIMITS: CborLimits = { maxDepth: 8, maxItems: 512 };

class CborError extends Error {}

/**
 * Checks the CBOR item starting at `offset` and returns the offset just past it.
 * Throws (a plain Error) when the item is malformed, truncated, too deep or has too many items.
 */
export function skipCborItem(
  bytes: Uint8Array,
  offset: number,
  limits: CborLimits = DEFAULT_CBOR_LIMITS,
): number {
  let pos = offset;
  let items = 0;
  // Stack of containers still expecting children: remaining count (-1 = indefinite length).
  const stack: number[] = [];

  const readArgument = (info: number): number => {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) throw new CborError('reserved additional information');
    if (pos + size > bytes.length) throw new CborError('truncated');
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + (bytes[pos + i] as number);
    pos += size;
    return value;
  };

  do {
    if (pos >= bytes.length) throw new CborError('truncated');
    const initial = bytes[pos++] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (++items > limits.maxItems) throw new CborError('too many items');

    if (initial === 0xff) {
      // "break": only valid as the end of an indefinite-length container.
      if (stack.length === 0 || stack[stack.length - 1] !== -1) throw new CborError('unexpected break');
      stack.pop();
    } else if (info === 31) {
      if (major === 2 || major === 3) {
        // Indefinite-length strings: chunks of the same major type follow, then a break. Treat as a
        // container of chunks.
        stack.push(-1);
      } else if (major === 4 || major === 5) {
        stack.push(-1);
      } else {
        throw new CborError('indefinite length not allowed here');
      }
      if (stack.length > limits.maxDepth) throw new CborError('too deep');
      continue;
    } else {
      const argument = readArgument(info);
      if (major === 2 || major === 3) {
        if (argument > bytes.length - pos) throw new CborError('truncated string');
        pos += argument;
      } else if (major === 4 || major === 5) {
        const children = major === 5 ? argument * 2 : argument;
        if (children > limits.maxItems) throw new CborError('too many items');
        if (children > 0) {
          stack.push(children);
          if (stack.length > limits.maxDepth) throw new CborError('too deep');
          continue;
        }
      } else if (major === 6) {
        // A tag wraps exactly one item.
        stack.push(1);
        if (stack.length > limits.maxDepth) throw new CborError('too deep');
        continue;
      } else if (major === 7 && info > 27) {
        throw new CborError('reserved simple value');
      }
    }
    // One item completed: count it against the enclosing definite-length containers.
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as number;
      if (top === -1) break;
      if (top > 1) {
        stack[stack.length - 1] = top - 1;
        break;
      }
      stack.pop();
    }
  } while (stack.length > 0);
  return pos;
}

/**
 * Parses the fixed part of authenticator data and checks its CBOR parts (credential public key,
 * extensions) are well-formed and bounded, with no bytes left over.
 * Throws `verification_failed` otherwise.
 */
export function guardAuthenticatorData(authData: Uint8Array, limits: CborLimits = DEFAULT_CBOR_LIMITS): void {
  try {
    if (authData.length < 37) throw new CborError('authenticator data too short');
    const flags = authData[32] as number;
    let pos = 37;
    if (flags & 0x40) {
      if (pos + 18 > authData.length) throw new CborError('attested credential data truncated');
      const idLength = ((authData[pos + 16] as number) << 8) | (authData[pos + 17] as number);
      pos += 18 + idLength;
      if (pos > authData.length) throw new CborError('credential id truncated');
      pos = skipCborItem(authData, pos, limits);
    }
    if (flags & 0x80) pos = skipCborItem(authData, pos, limits);
    if (pos !== authData.length) throw new CborError('leftover bytes in authenticator data');
  } catch (error) {
    if (error instanceof CborError)
      throw verificationFailed('malformed_authenticator_data', undefined, error);
    throw error;
  }
}

/** Checks an attestation object is one well-formed, bounded CBOR item with nothing after it. */
export function guardAttestationObject(
  attestationObject: Uint8Array,
  limits: CborLimits = DEFAULT_CBOR_LIMITS,
): void {
  try {
    const end = skipCborItem(attestationObject, 0, limits);
    if (end !== attestationObject.length) throw new CborError('leftover bytes after attestation object');
  } catch (error) {
    if (error instanceof CborError)
      throw verificationFailed('malformed_attestation_object', undefined, error);
    throw error;
  }
}
