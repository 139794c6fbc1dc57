/**
 * `@passgate/browser`: the browser half of Passgate. A typed client for the Passgate HTTP contract
 * (`createPasskeyClient`), one error type (`PasskeyError`), capability checks, and the WebAuthn
 * Signal API calls made for the app. Built on `@simplewebauthn/browser` 14 (the major of the
 * `@simplewebauthn/server` the Passgate server packages use).
 */
export {
  type BrowserCapabilities,
  type BrowserCapabilitySupport,
  getCapabilities,
  isAutofillAvailable,
  isWebAuthnSupported,
} from './capabilities.js';
export {
  createPasskeyClient,
  type PasskeyClient,
  type PasskeyClientOptions,
  type UpgradeResult,
} from './client.js';
export {
  type BrowserErrorCode,
  isPasskeyError,
  PasskeyError,
  type PasskeyErrorCode,
  type PasskeyErrorDetails,
  type ServerErrorCode,
} from './errors.js';
export {
  signalAllAcceptedCredentials,
  signalCurrentUserDetails,
  signalUnknownCredential,
} from './signals.js';
export type { AccountSignal, Credential, Hint, PasskeyResult, Session, User } from './types.js';
