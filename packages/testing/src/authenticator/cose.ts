import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { encodeCbor } from './cbor.js';

/** The key types the software authenticator can create: COSE -7, -8 and -257 respectively. */
export type SoftwareAlgorithm = 'ES256' | 'Ed25519' | 'RS256';

/**
 * COSE algorithm identifiers (IANA "COSE Algorithms" registry) for each {@link SoftwareAlgorithm},
 * as they appear in `pubKeyCredParams[].alg`, COSE keys, packed `attStmt.alg` and
 * `response.publicKeyAlgorithm`.
 */
export const COSE_ALGORITHMS: Readonly<Record<SoftwareAlgorithm, number>> = Object.freeze({
  ES256: -7,
  Ed25519: -8,
  RS256: -257,
});

/** Reverse lookup of {@link COSE_ALGORITHMS}; `undefined` for algorithms this package cannot create. */
export function softwareAlgorithmFromCose(alg: number): SoftwareAlgorithm | undefined {
  for (const [name, id] of Object.entries(COSE_ALGORITHMS)) {
    if (id === alg) return name as SoftwareAlgorithm;
  }
  return undefined;
}

/** A freshly generated credential key pair with its public key already serialised. */
export interface SoftwareKeyPair {
  readonly algorithm: SoftwareAlgorithm;
  readonly privateKey: KeyObject;
  /** CBOR COSE_Key, as embedded in attested credential data. */
  readonly cosePublicKey: Uint8Array;
  /** DER SubjectPublicKeyInfo, as returned by `AuthenticatorAttestationResponse.getPublicKey()`. */
  readonly spkiPublicKey: Uint8Array;
}

function jwkBytes(value: string | undefined, what: string): Uint8Array {
  if (value === undefined) throw new Error(`Generated key is missing JWK member ${what}`);
  return Buffer.from(value, 'base64url');
}

/**
 * Generates a key pair for `algorithm` (P-256, Ed25519 or RSA-2048 with e = 65537) and encodes the
 * public half as a COSE_Key in CTAP2 canonical key order:
 * EC2 `{1: 2, 3: -7, -1: 1, -2: x, -3: y}`, OKP `{1: 1, 3: -8, -1: 6, -2: x}`,
 * RSA `{1: 3, 3: -257, -1: n, -2: e}`.
 */
export function generateSoftwareKeyPair(algorithm: SoftwareAlgorithm): SoftwareKeyPair {
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  let cose: Map<number, number | Uint8Array>;
  switch (algorithm) {
    case 'ES256': {
      ({ privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
      const jwk = publicKey.export({ format: 'jwk' });
      cose = new Map<number, number | Uint8Array>([
        [1, 2],
        [3, COSE_ALGORITHMS.ES256],
        [-1, 1],
        [-2, jwkBytes(jwk.x, 'x')],
        [-3, jwkBytes(jwk.y, 'y')],
      ]);
      break;
    }
    case 'Ed25519': {
      ({ privateKey, publicKey } = generateKeyPairSync('ed25519'));
      const jwk = publicKey.export({ format: 'jwk' });
      cose = new Map<number, number | Uint8Array>([
        [1, 1],
        [3, COSE_ALGORITHMS.Ed25519],
        [-1, 6],
        [-2, jwkBytes(jwk.x, 'x')],
      ]);
      break;
    }
    case 'RS256': {
      ({ privateKey, publicKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicExponent: 65537,
      }));
      const jwk = publicKey.export({ format: 'jwk' });
      cose = new Map<number, number | Uint8Array>([
        [1, 3],
        [3, COSE_ALGORITHMS.RS256],
        [-1, jwkBytes(jwk.n, 'n')],
        [-2, jwkBytes(jwk.e, 'e')],
      ]);
      break;
    }
    default:
      throw new Error(`Unsupported software algorithm: ${String(algorithm)}`);
  }
  return {
    algorithm,
    privateKey,
    cosePublicKey: encodeCbor(cose),
    spkiPublicKey: publicKey.export({ format: 'der', type: 'spki' }),
  };
}

/**
 * Signs `data` the way WebAuthn expects for each algorithm: ES256 = ECDSA P-256/SHA-256 as an ASN.1
 * DER `Ecdsa-Sig-Value` (not raw r||s), Ed25519 = raw 64-byte EdDSA signature, RS256 = RSASSA-PKCS1-v1_5
 * with SHA-256.
 */
export function signWithSoftwareKey(
  algorithm: SoftwareAlgorithm,
  privateKey: KeyObject,
  data: Uint8Array,
): Uint8Array {
  switch (algorithm) {
    case 'ES256':
      return sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    case 'Ed25519':
      return sign(null, data, privateKey);
    case 'RS256':
      return sign('sha256', data, privateKey);
    default:
      throw new Error(`Unsupported software algorithm: ${String(algorithm)}`);
  }
}
