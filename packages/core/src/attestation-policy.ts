import {
  convertCertBufferToPEM,
  decodeAttestationObject,
  validateCertificatePath,
} from '@simplewebauthn/server/helpers';
import type { RegistrationCeremony, StoredAuthenticatorPolicy } from './ceremony-state.js';
import { verificationFailed } from './errors.js';
import type { ResolvedPolicy, Runtime } from './runtime.js';

/** The attestation object's parts; anything that is not the expected CBOR map is `verification_failed`. */
export function decodeAttestation(bytes: Uint8Array<ArrayBuffer>): {
  authData: Uint8Array;
  attStmt: unknown;
} {
  let decoded: ReturnType<typeof decodeAttestationObject>;
  try {
    decoded = decodeAttestationObject(bytes);
  } catch (error) {
    throw verificationFailed('malformed_attestation_object', undefined, error);
  }
  const authData = decoded instanceof Map ? decoded.get('authData') : undefined;
  if (!(authData instanceof Uint8Array)) throw verificationFailed('malformed_attestation_object');
  return { authData, attStmt: decoded.get('attStmt') };
}

/**
 * The attestation rules of the ceremony's own policy (stored with it). Certificate chains are checked
 * here against the configured roots: @simplewebauthn/server skips the chain check for formats it has
 * no roots for (packed, tpm, ... by default), so a statement signed by any self-made CA would pass.
 * The roots themselves are deployment configuration (trust anchors), read from the running instance.
 *
 * Throws `verification_failed` (`attestation_required`, `attestation_not_trusted`); resolves otherwise.
 */
export async function checkAttestationPolicy(
  runtime: Runtime,
  state: RegistrationCeremony,
  fmt: string,
  attStmt: unknown,
): Promise<void> {
  if (state.attestation !== 'direct') return;
  if (fmt === 'none') throw verificationFailed('attestation_required');
  const x5c = attStmt instanceof Map ? attStmt.get('x5c') : undefined;
  const chain = Array.isArray(x5c) ? x5c.filter((c): c is Uint8Array => c instanceof Uint8Array) : [];
  if (chain.length === 0) {
    if (fmt === 'packed' && state.allowSelfAttestation) return;
    throw verificationFailed('attestation_not_trusted');
  }
  const policy = runtime.policy.attestation;
  const roots = policy.conveyance === 'direct' ? (policy.rootCertificates?.[fmt] ?? []) : [];
  if (roots.length === 0) throw verificationFailed('attestation_not_trusted');
  let trusted = false;
  try {
    trusted = await validateCertificatePath(
      chain.map((cert) => convertCertBufferToPEM(cert as Uint8Array<ArrayBuffer>)),
      roots,
    );
  } catch (error) {
    throw verificationFailed('attestation_not_trusted', undefined, error);
  }
  if (!trusted) throw verificationFailed('attestation_not_trusted');
}

/** The authenticator allow/deny policy as it stands, to store with a new ceremony. */
export function authenticatorPolicySnapshot(
  policy: Pick<ResolvedPolicy, 'deviceBoundOnly' | 'allowedAaguids' | 'deniedAaguids'>,
): StoredAuthenticatorPolicy {
  return {
    deviceBoundOnly: policy.deviceBoundOnly,
    allowed: policy.allowedAaguids ? [...policy.allowedAaguids] : null,
    denied: [...policy.deniedAaguids],
  };
}

/**
 * The allow/deny policy stored with the ceremony when its options were made, so an instance started
 * with another configuration (a rolling deploy) verifies by the rules the options were made under.
 */
export function storedAuthenticatorPolicy(
  runtime: Runtime,
  state: RegistrationCeremony,
): StoredAuthenticatorPolicy {
  return state.authenticators ?? authenticatorPolicySnapshot(runtime.policy);
}

/** Throws `verification_failed` (`device_bound_required`, `authenticator_not_allowed`) when refused. */
export function checkAuthenticatorPolicy(
  policy: StoredAuthenticatorPolicy,
  aaguid: string,
  backupEligible: boolean,
): void {
  if (policy.deviceBoundOnly && backupEligible) throw verificationFailed('device_bound_required');
  const id = aaguid.toLowerCase();
  if (policy.denied.includes(id)) throw verificationFailed('authenticator_not_allowed');
  if (policy.allowed && !policy.allowed.includes(id)) throw verificationFailed('authenticator_not_allowed');
}
