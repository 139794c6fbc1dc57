/**
 * A software WebAuthn authenticator for tests: creates credentials and assertions with `node:crypto`
 * and lets every relying-party-checked field be forged.
 */
export {
  type AttestedCredentialDataInput,
  AUTHENTICATOR_DATA_FLAGS,
  type AuthenticatorDataFlags,
  type AuthenticatorDataInput,
  aaguidToBytes,
  buildAuthenticatorData,
  rpIdHash,
} from './authenticator-data.js';
export { type CborValue, encodeCbor } from './cbor.js';
export { COSE_ALGORITHMS, type SoftwareAlgorithm } from './cose.js';
export {
  type AuthenticationContext,
  type AuthenticatorTransportFuture,
  type CeremonyOverrides,
  type RegistrationContext,
  SoftwareAuthenticator,
  type SoftwareAuthenticatorOptions,
  type SoftwareCredential,
  TEST_AAGUID,
} from './software-authenticator.js';
