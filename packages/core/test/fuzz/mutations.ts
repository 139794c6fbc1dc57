import { isoCBOR } from '@simplewebauthn/server/helpers';
import fc from 'fast-check';

/**
 * fast-check arbitraries that turn a valid value into a hostile one: bytes, base64url strings, CBOR
 * structures (attestation objects, COSE keys, authenticator data, extensions), clientDataJSON and
 * whole JSON bodies. Each arbitrary takes the valid value and yields a mutant of it, so the fuzz
 * cases start from well-formed ceremonies and go as deep into the checks as a mutation allows.
 */

/**
 * One value of `arbitrary`, an arbitrary built from this case's own data (a fresh valid ceremony).
 * Not `g(() => arbitrary)`: `fc.gen()` memoises every builder it is given with its arguments for the
 * whole run (a cache keyed by the builder function), so a fresh closure per case is kept forever:
 * about 25 KB a case, hundreds of MiB at `pnpm fuzz`'s scale. Here `g` draws only a seed from one
 * stable builder (one cache entry for the run) and the seed picks the value: the case stays
 * reproducible from fast-check's seed and path; the mutant itself is not shrunk.
 */
export function draw<T>(g: fc.GeneratorValue, arbitrary: fc.Arbitrary<T>): T {
  const [value] = fc.sample(arbitrary, { seed: g(fc.integer), numRuns: 1 });
  return value as T;
}

export const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
export const fromB64u = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));

/** A byte-level mutation of `bytes`: flips, overwrites, truncation, insertion, duplication. */
export function mutatedBytes(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = Math.max(1, bytes.length);
  return fc.oneof(
    fc
      .array(fc.tuple(fc.nat(n - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
      .map((flips) => {
        const copy = new Uint8Array(bytes);
        for (const [at, mask] of flips) if (at < copy.length) copy[at] = (copy[at] as number) ^ mask;
        return copy;
      }),
    fc.nat(bytes.length).map((end) => bytes.slice(0, end)),
    fc
      .tuple(fc.nat(bytes.length), fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([at, extra]) => concat(bytes.slice(0, at), extra, bytes.slice(at))),
    fc
      .tuple(fc.nat(bytes.length), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 4096 }))
      .map(([at, value, count]) =>
        concat(bytes.slice(0, at), new Uint8Array(count).fill(value), bytes.slice(at)),
      ),
    fc.uint8Array({ maxLength: 512 }),
    fc.constant(concat(bytes, bytes)),
  );
}

/** A base64url field mutated as bytes, or replaced with text that may not be base64url at all. */
export function mutatedBase64url(value: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedBytes(fromB64u(value)).map(b64u) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(`${value}=`, `${value}==`, value.replaceAll('-', '+'), `${value}.`, ' '),
    },
    { weight: 1, arbitrary: jsonLeaf() },
  );
}

/** A CBOR value tree, for structural mutations. */
export function cborValue(): fc.Arbitrary<unknown> {
  const { tree } = fc.letrec<{ tree: unknown; leaf: unknown }>((tie) => ({
    leaf: fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
      fc.string({ maxLength: 20 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.boolean(),
      fc.constant(null),
      fc.double({ noNaN: false }),
    ),
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('leaf'),
      fc.array(tie('tree'), { maxLength: 5 }),
      fc
        .array(
          fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -300, max: 300 })), tie('tree')),
          {
            maxLength: 5,
          },
        )
        .map((entries) => new Map(entries)),
    ),
  }));
  return tree;
}

/** Encodes with the library's CBOR encoder; values it cannot encode become random bytes. */
export function encodeOr(value: unknown, fallback: Uint8Array): Uint8Array {
  try {
    return isoCBOR.encode(value as never);
  } catch {
    return fallback;
  }
}

function decodeOr(bytes: Uint8Array): Map<unknown, unknown> | null {
  try {
    const value = isoCBOR.decodeFirst<unknown>(bytes as Uint8Array<ArrayBuffer>);
    return value instanceof Map ? value : null;
  } catch {
    return null;
  }
}

/**
 * An attestation object mutated as CBOR: its `fmt`, `attStmt` and `authData` entries replaced,
 * dropped or given other types, the authenticator data inside mutated (flags, counter, the
 * attested credential data with its COSE key, extensions), or the whole encoding mutated as bytes.
 */
export function mutatedAttestationObject(encoded: string, donors: string[] = []): fc.Arbitrary<unknown> {
  const bytes = fromB64u(encoded);
  const map = decodeOr(bytes);
  const structural =
    map === null
      ? mutatedBytes(bytes).map(b64u)
      : fc
          .oneof(
            fc
              .tuple(fc.constantFrom('fmt', 'attStmt', 'authData', 'extra', 1), cborValue())
              .map(([key, value]) => {
                const copy = new Map(map);
                copy.set(key, value);
                return copy;
              }),
            fc.constantFrom('fmt', 'attStmt', 'authData').map((key) => {
              const copy = new Map(map);
              copy.delete(key);
              return copy;
            }),
            mutatedAuthenticatorDataBytes(map.get('authData') as Uint8Array).map((authData) => {
              const copy = new Map(map);
              copy.set('authData', authData);
              return copy;
            }),
            fc
              .constantFrom(
                'none',
                'packed',
                'tpm',
                'android-key',
                'android-safetynet',
                'fido-u2f',
                'apple',
                'x',
              )
              .map((fmt) => {
                const copy = new Map(map);
                copy.set('fmt', fmt);
                return copy;
              }),
          )
          .map((value) => b64u(encodeOr(value, bytes)));
  const arbitraries: fc.Arbitrary<unknown>[] = [structural, mutatedBase64url(encoded)];
  // Another authenticator's (a W3C vector's) attestation under this response's client data.
  if (donors.length > 0) arbitraries.push(fc.constantFrom(...donors));
  return fc.oneof(...arbitraries);
}

/**
 * Authenticator data mutated where it matters: the flags byte, the counter, the attested credential
 * data (id length, COSE key) and extensions (random CBOR after the ED flag), or plain bytes.
 */
export function mutatedAuthenticatorDataBytes(authData: Uint8Array | undefined): fc.Arbitrary<Uint8Array> {
  const base = authData instanceof Uint8Array ? authData : new Uint8Array(37);
  return fc.oneof(
    fc.integer({ min: 0, max: 255 }).map((flags) => {
      const copy = new Uint8Array(base);
      if (copy.length > 32) copy[32] = flags;
      return copy;
    }),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 })).map(([length, rest]) => {
      // A credential id length that does not match what follows.
      const copy = new Uint8Array(base.slice(0, Math.min(base.length, 53)));
      if (copy.length >= 55 - 2) {
        copy[51] = length >> 8;
        copy[52] = length & 0xff;
      }
      return concat(copy, rest);
    }),
    cborValue().map((extensions) => {
      const copy = new Uint8Array(base);
      if (copy.length > 32) copy[32] = (copy[32] as number) | 0x80;
      return concat(copy, encodeOr(extensions, new Uint8Array([0xa1])));
    }),
    cborValue().map((key) => {
      // A COSE key replaced by random CBOR (the key sits at the end of attested credential data).
      const head = base.slice(0, Math.min(base.length, 55 + (((base[53] ?? 0) << 8) | (base[54] ?? 0))));
      return concat(head, encodeOr(key, new Uint8Array([0xa0])));
    }),
    mutatedBytes(base),
  );
}

/** clientDataJSON mutated as JSON (fields replaced, dropped, retyped) or as bytes and text. */
export function mutatedClientDataJSON(encoded: string): fc.Arbitrary<unknown> {
  const text = Buffer.from(encoded, 'base64url').toString('utf8');
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = null;
  }
  const source = parsed ?? {};
  const fields = fc.constantFrom(
    'type',
    'challenge',
    'origin',
    'crossOrigin',
    'topOrigin',
    'tokenBinding',
    '__proto__',
  );
  const asJson = fc
    .oneof(
      fc.tuple(fields, jsonValue()).map(([field, value]) => ({ ...source, [field]: value })),
      fields.map((field) => {
        const copy = { ...source };
        delete copy[field];
        return copy;
      }),
      fc
        .tuple(fields, fc.string({ maxLength: 100 }))
        .map(([field, value]) => ({ ...source, [field]: value })),
    )
    .map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));
  const asText = fc
    .oneof(
      fc.string({ maxLength: 300 }),
      fc.constantFrom(
        `${text},`,
        `[${text}]`,
        text.replace('{', '{"a":1,'),
        text.slice(0, -1),
        `\ufeff${text}`,
      ),
      fc.nat(text.length).map((end) => text.slice(0, end)),
    )
    .map((value) => Buffer.from(value).toString('base64url'));
  return fc.oneof(
    { weight: 4, arbitrary: asJson },
    { weight: 2, arbitrary: asText },
    { weight: 2, arbitrary: mutatedBase64url(encoded) },
  );
}

/** Any JSON value, including deep nesting and numbers that do not fit. */
export function jsonValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map(nestedArrays) },
    { weight: 1, arbitrary: fc.constantFrom(1e308, -0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1e-320) },
  );
}

export function jsonLeaf(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 30 }),
    fc.constant({}),
    fc.constant([]),
  );
}

/** `[[[ ... ]]]` `depth` levels deep. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/**
 * A whole JSON body derived from a valid one: a field (at any depth, by its path) replaced, removed
 * or retyped, unknown fields added, or the body replaced by another JSON value.
 */
export function mutatedBody(body: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = leafPaths(body);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), jsonValue()).map(([path, value]) => setPath(body, path, value)),
    fc.constantFrom(...paths).map((path) => setPath(body, path, undefined)),
    fc
      .tuple(fc.constantFrom(...paths), fc.string({ maxLength: 12 }), jsonValue())
      .map(([path, key, value]) => setPath(body, [...path.slice(0, -1), key], value)),
    jsonValue(),
  );
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const out: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [key, child] of Object.entries(value)) out.push(...leafPaths(child, [...prefix, key]));
  return out;
}

function setPath(body: Record<string, unknown>, path: string[], value: unknown): unknown {
  const copy = structuredClone(body);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
