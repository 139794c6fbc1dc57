// The WebAuthn JSON shapes of the contract, as @simplewebauthn/server defines them, so integrations
// can name them without depending on it directly.
export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
export {
  type AndroidApp,
  androidAppOrigin,
  appleAppSiteAssociation,
  assetLinks,
} from './app-associations.js';
export type {
  AuthenticationResult,
  FinishAuthenticationInput,
  StartAuthenticationInput,
} from './authentication.js';
export { createAuthenticatorNamer, passkeyProviderNames } from './authenticator-names.js';
export { decodeBase64Url, encodeBase64Url, isBase64Url } from './base64url.js';
export { type CborLimits, DEFAULT_CBOR_LIMITS } from './cbor-guard.js';
export type {
  AttestationPolicy,
  PassgateLogger,
  PassgateOptions,
  PolicyOptions,
  RateLimitBucket,
  RateLimitOptions,
  RelyingPartyOptions,
  RequestContext,
} from './config.js';
export { consoleLogger, DEFAULTS, silentLogger } from './config.js';
export * from './errors.js';
export type { CredentialChange, PassgateEventMap, PassgateEventName, PassgateListener } from './events.js';
export {
  type AssertionVerifier,
  type AssertionVerifierOptions,
  createAssertionVerifier,
  DEFAULT_MAX_CACHED_KEYS,
} from './fast-assertion.js';
export type { SessionView } from './management.js';
export { createMemoryStores, type MemoryStoresOptions } from './memory-stores.js';
export * from './metadata/index.js';
export {
  assertRelatedOrigins,
  MAX_RELATED_ORIGIN_LABELS,
  relatedOriginLabel,
} from './origins.js';
export { createPassgate, Passgate } from './passgate.js';
export { pooledRandomBytes } from './random-pool.js';
export { isRateLimiterRes } from './rate-limits.js';
export type {
  CeremonyStart,
  FinishRegistrationInput,
  RegistrationResult,
  StartRegistrationInput,
} from './registration.js';
export { RequestCount } from './request-count.js';
export {
  authenticationResponseSchema,
  loginOptionsBodySchema,
  parseBody,
  registerOptionsBodySchema,
  registrationResponseSchema,
  renameBodySchema,
} from './schemas.js';
export {
  type ApplicationSignIn,
  type IdentifiedUser,
  isApplicationSignIn,
  type ResolvedSignIn,
  type SignIn,
} from './sign-in.js';
export type * from './stores.js';
export {
  FAILURE_REASONS,
  type FailureReason,
  INSTRUMENTATION_NAME,
  type MeterProviderLike,
  type TelemetryOptions,
  type TracerProviderLike,
} from './telemetry.js';
export type * from './types.js';
export type { PasskeyAccountNames } from './user-operations.js';
