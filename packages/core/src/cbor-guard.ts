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

/** A container still open while walking: definite ones count down, indefinite ones wait for a break. */
type Frame =
  | { kind: 'definite'; remaining: number }
  | { kind: 'indefinite'; isMap: boolean; count: number }
  /** Indefinite-length byte (2) or text (3) string: only definite chunks of the same major type. */
  | { kind: 'chunks'; major: 2 | 3 };

/**
 * Checks the CBOR item starting at `offset` is well-formed (RFC 8949 §5.3.1, structurally) and within
 * `limits`, and returns the offset just past it. Throws (a plain Error) otherwise.
 */
export function skipCborItem(
  bytes: Uint8Array,
  offset: number,
  limits: CborLimits = DEFAULT_CBOR_LIMITS,
): number {
  let pos = offset;
  let items = 0;
  const stack: Frame[] = [];

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
  const open = (frame: Frame) => {
    stack.push(frame);
    if (stack.length > limits.maxDepth) throw new CborError('too deep');
  };

  do {
    if (pos >= bytes.length) throw new CborError('truncated');
    const initial = bytes[pos++] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (++items > limits.maxItems) throw new CborError('too many items');
    const top = stack[stack.length - 1];

    if (initial === 0xff) {
      if (!top || top.kind === 'definite') throw new CborError('unexpected break');
      if (top.kind === 'indefinite' && top.isMap && top.count % 2 !== 0)
        throw new CborError('map without a value');
      stack.pop();
    } else {
      if (top?.kind === 'chunks' && (major !== top.major || info === 31)) {
        throw new CborError('indefinite string chunk of the wrong type');
      }
      if (info === 31) {
        if (major === 2 || major === 3) open({ kind: 'chunks', major });
        else if (major === 4 || major === 5) open({ kind: 'indefinite', isMap: major === 5, count: 0 });
        else throw new CborError('indefinite length not allowed here');
        continue;
      }
      const argument = readArgument(info);
      if (major === 2 || major === 3) {
        if (argument > bytes.length - pos) throw new CborError('truncated string');
        pos += argument;
      } else if (major === 4 || major === 5) {
        const children = major === 5 ? argument * 2 : argument;
        if (children > limits.maxItems) throw new CborError('too many items');
        if (children > 0) {
          open({ kind: 'definite', remaining: children });
          continue;
        }
      } else if (major === 6) {
        // A tag wraps exactly one item.
        open({ kind: 'definite', remaining: 1 });
        continue;
      } else if (major === 7 && (info > 27 || (info === 24 && argument < 32))) {
        throw new CborError('reserved or badly encoded simple value');
      }
    }
    // One item completed: count it against the open containers, closing the finished ones.
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      if (frame.kind === 'definite') {
        frame.remaining -= 1;
        if (frame.remaining > 0) break;
        stack.pop();
      } else {
        if (frame.kind === 'indefinite') frame.count += 1;
        break;
      }
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
