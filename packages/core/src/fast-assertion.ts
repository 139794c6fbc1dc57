import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  type JsonWebKey,
  type KeyObject,
  verify as verifySignature,
  webcrypto,
} from 'node:crypto';
import {
  type VerifiedAuthenticationResponse,
  type VerifyAuthenticationResponseOpts,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import {
  decodeCredentialPublicKey,
  isoBase64URL,
  isoUint8Array,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import { decodeBase64Url } from './base64url.js';

/**
 * A drop-in for `@simplewebauthn/server`'s `verifyAuthenticationResponse` that is cheaper on the
 * common path and never more lenient.
 *
 * Where the library's time goes on every sign-in: re-importing the COSE public key into a WebCrypto
 * key, CBOR-decoding it twice, and two `subtle.digest` calls that each round-trip libuv's thread pool
 * (one of them re-hashes the constant RP ID). This verifier keeps the imported key per credential,
 * hashes synchronously (RP ID hashes cached), and verifies with `node:crypto`.
 *
 * Equal strictness by construction, in two halves:
 * - It **accepts** only after running every check the library runs, in the library's order, with the
 *   library's own parsers for authenticator data and COSE keys (`parseAuthenticatorData`,
 *   `decodeCredentialPublicKey`); base64url fields must be canonical (decoded with `Buffer`, to the
 *   bytes the library's decoder gives; anything else goes to the library); the key is imported with
 *   the library's exact JWK and WebCrypto call, and the `KeyObject` is made from that same JWK only
 *   once WebCrypto accepted it. ECDSA signatures go to OpenSSL as DER, which takes only strict DER: a
 *   subset of what the library's lenient ASN.1 parser takes.
 * - It never **rejects** by itself: whenever a check fails, a signature does not verify, or anything
 *   is unusual (an algorithm without a fast path, a custom challenge function, `expectedType`,
 *   `advancedFIDOConfig`, a key that does not import), it hands the same options to
 *   `verifyAuthenticationResponse` and returns or throws whatever that does. So rejections carry the
 *   library's exact errors, and anything the fast path is stricter about (e.g. a non-minimal DER
 *   signature) gets the library's verdict.
 *
 * The differential property test (`test/fast-assertion.property.test.ts`) checks verdict equality on
 * generated valid assertions and mutations for ES256, RS256 and EdDSA.
 */
export interface AssertionVerifier {
  /** Same contract as `verifyAuthenticationResponse`: resolves `{ verified, authenticationInfo }` or throws. */
  verify(options: VerifyAuthenticationResponseOpts): Promise<VerifiedAuthenticationResponse>;
  /** How many credentials' keys are cached now (at most `maxCachedKeys`). */
  readonly cachedKeys: number;
  /** Calls answered so far: `fast` accepted on the fast path, `library` by `verifyAuthenticationResponse`. */
  readonly stats: { readonly fast: number; readonly library: number };
}

export interface AssertionVerifierOptions {
  /**
   * Imported public keys kept, least recently used evicted first. Default 10,000 (a few hundred bytes
   * each). 0 turns the fast path off: every call goes to `verifyAuthenticationResponse`.
   */
  maxCachedKeys?: number;
}

export const DEFAULT_MAX_CACHED_KEYS = 10_000;

/** COSE labels and values (RFC 9053) of the three algorithms with a fast path. */
const COSE = { kty: 1, alg: 3, crv: -1, x: -2, y: -3, n: -1, e: -2 } as const;
const KTY_OKP = 1;
const KTY_EC2 = 2;
const KTY_RSA = 3;
const ALG_ES256 = -7;
const ALG_EDDSA = -8;
const ALG_RS256 = -257;
const CRV_P256 = 1;
const CRV_ED25519 = 6;

type SignatureCheck = (data: Uint8Array, signature: Uint8Array) => boolean;

interface CachedKey {
  /** The full COSE key bytes the entry was made from: a different key under the same id never matches. */
  cose: Buffer;
  /** null: no fast path for this key (its algorithm, or it did not import); always the library. */
  check: SignatureCheck | null;
}

/** The library's UTF-8 decoding of clientDataJSON: WHATWG, replacement characters, leading BOM dropped. */
const utf8 = new TextDecoder();

/** Thrown inside the fast path to hand the call to the library. */
const DELEGATE = Symbol('delegate');

export function createAssertionVerifier(options: AssertionVerifierOptions = {}): AssertionVerifier {
  const max = options.maxCachedKeys ?? DEFAULT_MAX_CACHED_KEYS;
  if (!Number.isSafeInteger(max) || max < 0) throw new TypeError('maxCachedKeys must be a whole number ≥ 0');
  const keys = new Map<string, CachedKey>();
  const rpIdHashes = new Map<string, Buffer>();
  const stats = { fast: 0, library: 0 };

  async function keyFor(id: string, publicKey: Uint8Array): Promise<CachedKey> {
    const found = keys.get(id);
    if (found?.cose.equals(publicKey)) {
      // Most recently used last, so eviction takes the oldest.
      keys.delete(id);
      keys.set(id, found);
      return found;
    }
    const entry: CachedKey = { cose: Buffer.from(publicKey), check: await importCheck(publicKey) };
    keys.delete(id);
    keys.set(id, entry);
    if (keys.size > max) keys.delete(keys.keys().next().value as string);
    return entry;
  }

  function rpIdHash(rpId: string): Buffer {
    let hash = rpIdHashes.get(rpId);
    if (!hash) {
      hash = sha256(isoUint8Array.fromASCIIString(rpId));
      // RP IDs come from configuration, so this stays tiny; the bound is only a guard.
      if (rpIdHashes.size >= 1000) rpIdHashes.clear();
      rpIdHashes.set(rpId, hash);
    }
    return hash;
  }

  return {
    async verify(opts) {
      if (max > 0 && canTakeFastPath(opts)) {
        try {
          const cached = await keyFor(opts.credential.id, opts.credential.publicKey);
          if (cached.check) {
            const verified = fastVerify(opts, cached.check, rpIdHash);
            stats.fast += 1;
            return verified;
          }
        } catch {
          // Fall through: the library decides, with its own error.
        }
      }
      stats.library += 1;
      return verifyAuthenticationResponse(opts);
    },
    get cachedKeys() {
      return keys.size;
    },
    get stats() {
      return { ...stats };
    },
  };
}

/** Options the fast path covers; anything else goes to the library untouched. */
function canTakeFastPath(opts: VerifyAuthenticationResponseOpts): boolean {
  return (
    typeof opts.expectedChallenge === 'string' &&
    opts.expectedType === undefined &&
    opts.advancedFIDOConfig === undefined &&
    opts.credential?.publicKey instanceof Uint8Array &&
    typeof opts.credential.id === 'string'
  );
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * `verifyAuthenticationResponse`'s checks, in its order, synchronously. Throws DELEGATE (caught by
 * `verify`, which then asks the library) where the library would throw or answer `verified: false`.
 */
function fastVerify(
  opts: VerifyAuthenticationResponseOpts,
  check: SignatureCheck,
  rpIdHash: (rpId: string) => Buffer,
): VerifiedAuthenticationResponse {
  const {
    response,
    expectedChallenge,
    expectedOrigin,
    expectedRPID,
    expectedTopOrigin,
    credential,
    requireUserVerification = true,
  } = opts;
  const { id, rawId, type: credentialType, response: assertionResponse } = response;
  if (!id) throw DELEGATE;
  if (id !== rawId) throw DELEGATE;
  if (credentialType !== 'public-key') throw DELEGATE;
  if (typeof assertionResponse?.clientDataJSON !== 'string') throw DELEGATE;

  // The library decodes with @hexagon/base64 and a default TextDecoder (which drops a leading BOM);
  // a canonical base64url string decodes to the same bytes with Buffer, far faster. Anything else
  // goes to the library.
  const clientDataBytes = decodeBase64Url(assertionResponse.clientDataJSON);
  if (!clientDataBytes) throw DELEGATE;
  const clientDataJSON = JSON.parse(utf8.decode(clientDataBytes));
  const { type, origin, challenge, tokenBinding, crossOrigin, topOrigin } = clientDataJSON;
  if (type !== 'webauthn.get') throw DELEGATE;
  if (challenge !== expectedChallenge) throw DELEGATE;
  if (crossOrigin) {
    if (topOrigin) {
      if (!expectedTopOrigin) throw DELEGATE;
      if (
        Array.isArray(expectedTopOrigin)
          ? !expectedTopOrigin.includes(topOrigin)
          : topOrigin !== expectedTopOrigin
      )
        throw DELEGATE;
    }
  } else if (topOrigin) {
    throw DELEGATE;
  }
  if (Array.isArray(expectedOrigin) ? !expectedOrigin.includes(origin) : origin !== expectedOrigin)
    throw DELEGATE;
  // Canonical base64url only: a subset of what the library's isBase64URL takes.
  const authDataBuffer = decodeBase64Url(assertionResponse.authenticatorData);
  if (!authDataBuffer) throw DELEGATE;
  const signature = decodeBase64Url(assertionResponse.signature);
  if (!signature) throw DELEGATE;
  if (assertionResponse.userHandle && typeof assertionResponse.userHandle !== 'string') throw DELEGATE;
  if (tokenBinding) {
    if (typeof tokenBinding !== 'object') throw DELEGATE;
    if (['present', 'supported', 'notSupported'].indexOf(tokenBinding.status) < 0) throw DELEGATE;
  }

  const {
    rpIdHash: receivedRpIdHash,
    flags,
    counter,
    extensionsData,
  } = parseAuthenticatorData(authDataBuffer);

  const expectedRPIDs = typeof expectedRPID === 'string' ? [expectedRPID] : expectedRPID;
  const matchedRPID = expectedRPIDs.find((rpId) => rpIdHash(rpId).equals(receivedRpIdHash));
  if (matchedRPID === undefined) throw DELEGATE;

  if (!flags.up) throw DELEGATE;
  if (requireUserVerification && !flags.uv) throw DELEGATE;

  const signatureBase = Buffer.concat([authDataBuffer, sha256(clientDataBytes)]);

  if ((counter > 0 || credential.counter > 0) && counter <= credential.counter) throw DELEGATE;

  // The library's parseBackupFlags: a single-device credential cannot be backed up.
  if (!flags.be && flags.bs) throw DELEGATE;

  if (!check(signatureBase, signature)) throw DELEGATE;
  return {
    verified: true,
    authenticationInfo: {
      newCounter: counter,
      credentialID: credential.id,
      userVerified: flags.uv,
      credentialDeviceType: flags.be ? 'multiDevice' : 'singleDevice',
      credentialBackedUp: flags.bs,
      authenticatorExtensionResults: extensionsData,
      origin: clientDataJSON.origin,
      rpID: matchedRPID,
    },
  };
}

/**
 * The signature check for a COSE key, imported exactly as the library imports it (same JWK, same
 * WebCrypto algorithm, so the same keys are refused), or null when there is no fast path for it.
 */
async function importCheck(publicKey: Uint8Array): Promise<SignatureCheck | null> {
  let cose: Map<number, unknown>;
  try {
    cose = decodeCredentialPublicKey(publicKey as Uint8Array<ArrayBuffer>) as unknown as Map<number, unknown>;
  } catch {
    return null;
  }
  const kty = cose.get(COSE.kty);
  const alg = cose.get(COSE.alg);
  const bytes = (label: number) => {
    const value = cose.get(label);
    return value instanceof Uint8Array ? (value as Uint8Array<ArrayBuffer>) : null;
  };
  try {
    if (kty === KTY_EC2 && alg === ALG_ES256 && cose.get(COSE.crv) === CRV_P256) {
      const x = bytes(COSE.x);
      const y = bytes(COSE.y);
      if (!x || !y) return null;
      const key = await importJwk(
        { kty: 'EC', crv: 'P-256', x: isoBase64URL.fromBuffer(x), y: isoBase64URL.fromBuffer(y), ext: false },
        { name: 'ECDSA', namedCurve: 'P-256' },
      );
      return (data, signature) => verifySignature('sha256', data, { key, dsaEncoding: 'der' }, signature);
    }
    if (kty === KTY_RSA && alg === ALG_RS256) {
      const n = bytes(COSE.n);
      const e = bytes(COSE.e);
      if (!n || !e) return null;
      const key = await importJwk(
        {
          kty: 'RSA',
          alg: 'RS256',
          n: isoBase64URL.fromBuffer(n),
          e: isoBase64URL.fromBuffer(e),
          ext: false,
        },
        { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
      );
      return (data, signature) =>
        verifySignature('sha256', data, { key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
    }
    if (kty === KTY_OKP && alg === ALG_EDDSA && cose.get(COSE.crv) === CRV_ED25519) {
      const x = bytes(COSE.x);
      if (!x) return null;
      const key = await importJwk(
        { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', x: isoBase64URL.fromBuffer(x), ext: false },
        { name: 'Ed25519', namedCurve: 'Ed25519' },
      );
      return (data, signature) => verifySignature(null, data, key, signature);
    }
  } catch {
    // A key WebCrypto refuses: the library refuses it too, with its own error.
    return null;
  }
  return null;
}

async function importJwk(
  jwk: JsonWebKey,
  algorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm,
): Promise<KeyObject> {
  // WebCrypto's import is the gate: it accepts exactly the keys the library's own import accepts.
  // The KeyObject is then made from the same JWK, not with `KeyObject.from(cryptoKey)`: Node 24
  // deprecates that for a non-extractable key (DEP0204), and the JWK must say `ext: false` as the
  // library's does, which makes the imported key non-extractable.
  await webcrypto.subtle.importKey('jwk', jwk, algorithm, false, ['verify']);
  return createPublicKey({ key: jwk, format: 'jwk' });
}
