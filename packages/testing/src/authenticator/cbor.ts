/**
 * A deliberately tiny CBOR (RFC 8949) *encoder*: just enough to build attestation objects and COSE
 * keys without a runtime dependency.
 *
 * Contract: items are written with the shortest ("preferred") length encoding and maps keep their
 * insertion order, so callers control key order. WebAuthn/CTAP2 canonical order (shorter encoded
 * key first, then bytewise) is what real authenticators emit; pass keys in that order (e.g. COSE
 * `1, 3, -1, -2, -3` and attestation object `fmt, attStmt, authData`) to get byte-identical output.
 * Decoders such as `@simplewebauthn/server` re-encode what they decode to find item boundaries, so
 * non-preferred encodings would desynchronise them; this encoder never produces those.
 *
 * Not supported (throws): floats, non-safe integers given as `number`, `undefined`, tags.
 */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>
  | { readonly [key: string]: CborValue };

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;

/** Encodes one CBOR data item. */
export function encodeCbor(value: CborValue): Uint8Array<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  write(value, chunks);
  return new Uint8Array(Buffer.concat(chunks));
}

function header(major: number, length: number | bigint): Uint8Array {
  const n = BigInt(length);
  if (n < 0n) throw new RangeError('CBOR length/argument must be non-negative');
  const m = major << 5;
  if (n < 24n) return Uint8Array.of(m | Number(n));
  if (n < 0x100n) return Uint8Array.of(m | 24, Number(n));
  if (n < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(n), 1);
    return b;
  }
  if (n < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(n), 1);
    return b;
  }
  if (n < 0x10000000000000000n) {
    const b = Buffer.alloc(9);
    b[0] = m | 27;
    b.writeBigUInt64BE(n, 1);
    return b;
  }
  throw new RangeError('CBOR integer out of 64-bit range');
}

function writeInteger(n: bigint, out: Uint8Array[]): void {
  if (n >= 0n) out.push(header(MAJOR_UNSIGNED, n));
  else out.push(header(MAJOR_NEGATIVE, -1n - n));
}

function write(value: CborValue, out: Uint8Array[]): void {
  if (value === null) {
    out.push(Uint8Array.of(0xf6));
  } else if (typeof value === 'boolean') {
    out.push(Uint8Array.of(value ? 0xf5 : 0xf4));
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`CBOR encoder only supports integers, got ${value}`);
    writeInteger(BigInt(value), out);
  } else if (typeof value === 'bigint') {
    writeInteger(value, out);
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    out.push(header(MAJOR_TEXT, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    out.push(header(MAJOR_BYTES, value.length), value);
  } else if (Array.isArray(value)) {
    const items = value as readonly CborValue[];
    out.push(header(MAJOR_ARRAY, items.length));
    for (const item of items) write(item, out);
  } else if (value instanceof Map) {
    const map = value as ReadonlyMap<CborValue, CborValue>;
    out.push(header(MAJOR_MAP, map.size));
    for (const [k, v] of map) {
      write(k, out);
      write(v, out);
    }
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as { readonly [key: string]: CborValue });
    out.push(header(MAJOR_MAP, entries.length));
    for (const [k, v] of entries) {
      write(k, out);
      write(v, out);
    }
  } else {
    throw new TypeError(`Cannot CBOR-encode a value of type ${typeof value}`);
  }
}
