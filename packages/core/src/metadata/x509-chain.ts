import { X509Certificate } from 'node:crypto';

/**
 * Certificate path validation on node:crypto's X509Certificate, with no network access (no CRL or
 * OCSP fetches), so it can run inside a ceremony. Checks each certificate's validity period at `now`,
 * that each is issued and signed by the next, that every issuer is a CA, and that the last one is
 * issued and signed by (or is) one of `roots`.
 *
 * @returns nothing; throws `ChainError` with `reason` `certificate_expired` or `chain_invalid`
 *   (a link does not verify) or `unknown_root` (the chain ends at no given root).
 */
export function verifyCertificateChain(chain: X509Certificate[], roots: X509Certificate[], now: Date): void {
  if (chain.length === 0) throw new ChainError('chain_invalid', 'empty certificate chain');
  for (const cert of chain) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      throw new ChainError(
        'certificate_expired',
        `certificate ${cert.subject} is outside its validity period`,
      );
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      throw new ChainError('chain_invalid', `certificate ${i} is not signed by certificate ${i + 1}`);
    }
  }
  const last = chain[chain.length - 1] as X509Certificate;
  const anchored = roots.some(
    (root) =>
      last.raw.equals(root.raw) ||
      (root.ca && last.checkIssued(root) && last.verify(root.publicKey) && now <= new Date(root.validTo)),
  );
  if (!anchored) throw new ChainError('unknown_root', 'the certificate chain ends at no trusted root');
}

export class ChainError extends Error {
  constructor(
    readonly reason: 'certificate_expired' | 'chain_invalid' | 'unknown_root',
    message: string,
  ) {
    super(message);
    this.name = 'ChainError';
  }
}

/** A certificate from PEM text or base64 DER (as MDS and JWT `x5c` carry them). */
export function parseCertificate(value: string | Uint8Array): X509Certificate {
  if (typeof value !== 'string') return new X509Certificate(value);
  return new X509Certificate(value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64'));
}
