import {
  type BrowserCapabilities,
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  getBrowserCapabilities,
} from '@simplewebauthn/browser';

export type { BrowserCapabilities, BrowserCapabilitySupport } from '@simplewebauthn/browser';

/** Whether this browser has WebAuthn at all (`PublicKeyCredential`). Synchronous. */
export function isWebAuthnSupported(): boolean {
  return browserSupportsWebAuthn();
}

/**
 * Whether passkeys can be offered in the username field's autofill (conditional mediation), so
 * `signInWithAutofill` can run. Never rejects: `false` when unknown.
 */
export async function isAutofillAvailable(): Promise<boolean> {
  try {
    return await browserSupportsWebAuthnAutofill();
  } catch {
    return false;
  }
}

const CAPABILITY_NAMES: readonly (keyof BrowserCapabilities)[] = [
  'conditionalCreate',
  'conditionalGet',
  'hybridTransport',
  'passkeyPlatformAuthenticator',
  'userVerifyingPlatformAuthenticator',
  'relatedOrigins',
  'signalAllAcceptedCredentials',
  'signalCurrentUserDetails',
  'signalUnknownCredential',
];

function every(value: 'unsupported' | 'unknown'): BrowserCapabilities {
  return Object.fromEntries(CAPABILITY_NAMES.map((name) => [name, value])) as BrowserCapabilities;
}

/**
 * What the browser says it can do (`PublicKeyCredential.getClientCapabilities()`, with fallbacks to
 * the older checks), each `supported`, `unsupported` or `unknown` (try it and see). Never rejects:
 * everything is `unsupported` without WebAuthn, `unknown` when the browser's answer is unusable.
 */
export async function getCapabilities(): Promise<BrowserCapabilities> {
  if (!browserSupportsWebAuthn()) return every('unsupported');
  try {
    return await getBrowserCapabilities();
  } catch {
    return every('unknown');
  }
}
