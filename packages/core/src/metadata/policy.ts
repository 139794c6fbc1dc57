import { verificationFailed } from '../errors.js';
import type { MetadataService } from './service.js';
import { ChainError, parseCertificate, verifyCertificateChain } from './x509-chain.js';

/** Status reports that mean an authenticator model must not be trusted any more (refused by default). */
export const REFUSED_STATUSES: readonly string[] = [
  'REVOKED',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_VERIFICATION_BYPASS',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
];

/** FIDO certification levels, lowest first (`FIDO_CERTIFIED` without a level counts as L1). */
export const CERTIFICATION_LEVELS = [
  'FIDO_CERTIFIED_L1',
  'FIDO_CERTIFIED_L1plus',
  'FIDO_CERTIFIED_L2',
  'FIDO_CERTIFIED_L2plus',
  'FIDO_CERTIFIED_L3',
  'FIDO_CERTIFIED_L3plus',
] as const;
export type CertificationLevel = (typeof CERTIFICATION_LEVELS)[number];

/** Who is registering, for the per-account device-bound hook. */
export interface RegisteringAccount {
  /** The application's user id when a signed-in account adds a passkey; `null` at sign-up. */
  userId: string | null;
  username: string;
}

/**
 * Which authenticators registration accepts, decided with the attestation and FIDO MDS3.
 * Each refusal is `400 verification_failed`; its stable reason is in the `verification_failed`
 * event only (`authenticator_status_refused`, `attestation_required`, `attestation_not_trusted`,
 * `authenticator_not_in_metadata`, `certification_level_too_low`, `device_bound_required`).
 * The policy in force is stored with the ceremony when its options are made.
 */
export interface TrustOptions {
  /** Where entries come from. Needed by `requireAttested` and `minCertificationLevel`. */
  metadata?: MetadataService;
  /**
   * Ask for `direct` attestation and accept only statements whose certificate chain ends at a root
   * the authenticator's MDS entry lists. Only then are the AAGUID, the model's statuses and
   * certification level facts rather than what the authenticator claims. Default false. Synced
   * passkey providers do not attest, so this admits security keys and attesting platforms only.
   */
  requireAttested?: boolean;
  /** Lowest FIDO certification level accepted (needs `requireAttested`). Default: none. */
  minCertificationLevel?: CertificationLevel;
  /**
   * Refuse models whose MDS status reports include any of these. Default `REFUSED_STATUSES`.
   * Applies whenever the AAGUID has an entry; without attestation the AAGUID is self-reported, so
   * this stops honest-but-broken models, not a forger.
   */
  refuseStatuses?: string[];
  /**
   * Per account: whether only device-bound passkeys (backup eligibility unset) are accepted, e.g.
   * for administrators. Called when registration options are made. Default: `policy.deviceBoundOnly`.
   */
  deviceBoundOnly?: (account: RegisteringAccount) => boolean | Promise<boolean>;
}

/** The part of `TrustOptions` stored with a registration ceremony (plain data). */
export interface StoredTrust {
  requireAttested: boolean;
  minCertificationLevel: CertificationLevel | null;
  refuseStatuses: string[];
  deviceBoundOnly: boolean;
}

const configError = (message: string) => new TypeError(`passgate: policy.trust: ${message}`);

/** Checks `policy.trust` at start. */
export function resolveTrustOptions(trust: TrustOptions | undefined): TrustOptions | null {
  if (!trust) return null;
  if ((trust.requireAttested || trust.minCertificationLevel) && !trust.metadata) {
    throw configError('requireAttested and minCertificationLevel need a metadata service');
  }
  if (trust.minCertificationLevel !== undefined) {
    if (!CERTIFICATION_LEVELS.includes(trust.minCertificationLevel)) {
      throw configError(`minCertificationLevel must be one of ${CERTIFICATION_LEVELS.join(', ')}`);
    }
    if (!trust.requireAttested) {
      throw configError(
        'minCertificationLevel needs requireAttested (an unattested AAGUID is self-reported)',
      );
    }
  }
  if (trust.refuseStatuses !== undefined && !Array.isArray(trust.refuseStatuses)) {
    throw configError('refuseStatuses must be a list of status names');
  }
  return trust;
}

/** The trust policy for a ceremony about to start, with the per-account hook evaluated now. */
export async function trustForCeremony(
  trust: TrustOptions | null,
  account: RegisteringAccount,
): Promise<StoredTrust | undefined> {
  if (!trust) return undefined;
  return {
    requireAttested: trust.requireAttested === true,
    minCertificationLevel: trust.minCertificationLevel ?? null,
    refuseStatuses: [...(trust.refuseStatuses ?? REFUSED_STATUSES)],
    deviceBoundOnly: trust.deviceBoundOnly ? (await trust.deviceBoundOnly(account)) === true : false,
  };
}

export interface RegisteredAuthenticator {
  aaguid: string;
  fmt: string;
  /** The attestation statement as decoded (a CBOR map). */
  attStmt: unknown;
  backupEligible: boolean;
  now: Date;
}

/**
 * The stored trust policy against the new credential. Reads the metadata service's current copy
 * (never the network). Throws `verification_failed` with the reason.
 */
export function checkTrust(
  trust: StoredTrust,
  metadata: MetadataService | undefined,
  registered: RegisteredAuthenticator,
): void {
  if (trust.deviceBoundOnly && registered.backupEligible) throw verificationFailed('device_bound_required');
  const entry = metadata?.entry(registered.aaguid) ?? null;
  if (entry?.statusReports.some((report) => trust.refuseStatuses.includes(report.status))) {
    throw verificationFailed('authenticator_status_refused');
  }
  if (!trust.requireAttested) return;
  if (!entry) throw verificationFailed('authenticator_not_in_metadata');
  const x5c = registered.attStmt instanceof Map ? registered.attStmt.get('x5c') : undefined;
  const chain = Array.isArray(x5c) ? x5c.filter((c): c is Uint8Array => c instanceof Uint8Array) : [];
  if (registered.fmt === 'none' || chain.length === 0) throw verificationFailed('attestation_required');
  const roots = entry.metadataStatement?.attestationRootCertificates ?? [];
  try {
    verifyCertificateChain(
      chain.map((c) => parseCertificate(c)),
      roots.map((r) => parseCertificate(r)),
      registered.now,
    );
  } catch (error) {
    if (error instanceof ChainError || error instanceof Error) {
      throw verificationFailed('attestation_not_trusted', undefined, error);
    }
    throw error;
  }
  if (trust.minCertificationLevel) {
    const reached = Math.max(-1, ...entry.statusReports.map((report) => certificationRank(report.status)));
    if (reached < CERTIFICATION_LEVELS.indexOf(trust.minCertificationLevel)) {
      throw verificationFailed('certification_level_too_low');
    }
  }
}

function certificationRank(status: string): number {
  if (status === 'FIDO_CERTIFIED') return 0;
  return CERTIFICATION_LEVELS.indexOf(status as CertificationLevel);
}
