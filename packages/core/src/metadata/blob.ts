import { constants, verify as verifySignature, type X509Certificate } from 'node:crypto';
import { ChainError, parseCertificate, verifyCertificateChain } from './x509-chain.js';

/** A status of FIDO MDS3 status reports (the ones Passgate's policy reads are listed in `policy.ts`). */
export type AuthenticatorStatus = string;

export interface StatusReport {
  status: AuthenticatorStatus;
  effectiveDate?: string;
  [key: string]: unknown;
}

/** One entry of the BLOB's `entries`, as FIDO publishes it (only what Passgate reads is typed). */
export interface MetadataEntry {
  aaguid?: string;
  metadataStatement?: {
    description?: string;
    /** Base64 DER roots the authenticator's attestation certificates chain to. */
    attestationRootCertificates?: string[];
    [key: string]: unknown;
  };
  statusReports: StatusReport[];
  timeOfLastStatusChange?: string;
  [key: string]: unknown;
}

/** A verified BLOB: its serial number, when the next one is due, and the FIDO2 entries by AAGUID. */
export interface MetadataBlob {
  no: number;
  /** Start of the UTC day named by the BLOB's `nextUpdate`. */
  nextUpdate: Date;
  entries: Map<string, MetadataEntry>;
}

export type MetadataBlobErrorReason =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'signature_invalid'
  | 'certificate_expired'
  | 'chain_invalid'
  | 'unknown_root'
  | 'expired';

/** Why a BLOB was refused; `reason` is stable, the message is for logs. */
export class MetadataBlobError extends Error {
  constructor(
    readonly reason: MetadataBlobErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'MetadataBlobError';
  }
}

const ALGORITHMS: Record<string, { hash: string; padding?: 'pss'; ec?: boolean }> = {
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
  RS256: { hash: 'sha256' },
  PS256: { hash: 'sha256', padding: 'pss' },
};

const malformed = (message: string) => new MetadataBlobError('malformed', message);

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw malformed(`the BLOB's ${what} is not a JSON object`);
}

/**
 * Verifies an MDS3 BLOB (a JWS in compact form) the way FIDO's MDS specification asks: the `x5c`
 * chain in its header must chain to one of `roots` and be valid at `now`, its signature must verify
 * with the first certificate's key, and its `nextUpdate` must not have passed. No network access.
 *
 * @param roots PEM or base64 DER trust anchors (default in the service: the FIDO MDS root).
 * @throws MetadataBlobError with a stable `reason`.
 */
export function verifyMetadataBlob(jwt: string, roots: string[], now: Date): MetadataBlob {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw malformed('the BLOB is not a compact JWS');
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart, 'header');
  const algorithm = ALGORITHMS[String(header['alg'])];
  if (!algorithm)
    throw new MetadataBlobError('unsupported_algorithm', `unsupported alg ${String(header['alg'])}`);
  const x5c = header['x5c'];
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
    throw malformed('the BLOB header has no x5c certificate chain');
  }
  let chain: X509Certificate[];
  let anchors: X509Certificate[];
  try {
    chain = x5c.map((c: string) => parseCertificate(c));
  } catch {
    throw malformed('the BLOB header carries a certificate that does not parse');
  }
  try {
    anchors = roots.map((r) => parseCertificate(r));
  } catch {
    throw new TypeError('passgate: metadata: a configured root certificate does not parse');
  }
  try {
    verifyCertificateChain(chain, anchors, now);
  } catch (error) {
    if (error instanceof ChainError) throw new MetadataBlobError(error.reason, error.message);
    throw error;
  }
  const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  const signature = Buffer.from(signaturePart, 'base64url');
  const key = (chain[0] as X509Certificate).publicKey;
  let valid = false;
  try {
    valid = verifySignature(
      algorithm.hash,
      signed,
      {
        key,
        ...(algorithm.ec ? { dsaEncoding: 'ieee-p1363' as const } : {}),
        ...(algorithm.padding === 'pss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {}),
      },
      signature,
    );
  } catch {
    valid = false;
  }
  if (!valid) throw new MetadataBlobError('signature_invalid', 'the BLOB signature does not verify');

  const payload = decodeJson(payloadPart, 'payload');
  const no = payload['no'];
  const nextUpdate = payload['nextUpdate'];
  if (
    !Number.isSafeInteger(no) ||
    typeof nextUpdate !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}$/.test(nextUpdate)
  ) {
    throw malformed('the BLOB payload lacks no or nextUpdate');
  }
  const next = new Date(`${nextUpdate}T00:00:00Z`);
  if (Number.isNaN(next.getTime())) throw malformed('the BLOB nextUpdate is not a date');
  if (now >= next)
    throw new MetadataBlobError('expired', `the BLOB was due for replacement on ${nextUpdate}`);
  if (!Array.isArray(payload['entries'])) throw malformed('the BLOB payload has no entries');
  const entries = new Map<string, MetadataEntry>();
  for (const entry of payload['entries'] as MetadataEntry[]) {
    // FIDO2 authenticators are known by AAGUID; U2F and UAF entries (AAID, key ids) are not used here.
    if (entry && typeof entry.aaguid === 'string') {
      entries.set(entry.aaguid.toLowerCase(), {
        ...entry,
        statusReports: Array.isArray(entry.statusReports) ? entry.statusReports : [],
      });
    }
  }
  return { no: no as number, nextUpdate: next, entries };
}
