/**
 * The JSON shapes of the Passgate HTTP contract (docs/http-api.md, version 1.1) as the browser sees
 * them. Dates are ISO-8601 strings, exactly as the server sends them.
 */

/** WebAuthn Level 3 hints: a security key, this device's platform authenticator, or a phone by QR code. */
export type Hint = 'security-key' | 'client-device' | 'hybrid';

/** An account. `id` is the application's user id (never the WebAuthn user handle). */
export interface User {
  id: string;
  name: string;
  displayName: string;
}

/** One passkey of the signed-in account. */
export interface Credential {
  /** The credential id, base64url. */
  id: string;
  nickname: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  /** `multiDevice` when the passkey may sync (backup eligible); `singleDevice` otherwise. */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  transports: string[];
  aaguid: string;
  /** The authenticator's model name when known (e.g. "iCloud Keychain", "YubiKey 5"). */
  authenticatorName: string | null;
}

/** `GET /session`: who is signed in, with which passkey, and when. */
export interface Session {
  user: User;
  /**
   * The passkey used for this sign-in (base64url); `null` when the application signed the user in
   * itself (a password, social sign-in: its `identify`).
   */
  credentialId: string | null;
  authenticatedAt: string;
  userVerified: boolean;
}

/** What the server answers to a successful sign-up, sign-in or added passkey. */
export interface PasskeyResult {
  user: User;
  /** The passkey just created or used, in its state after this ceremony. */
  credential: Credential;
}

/** The account details the browser's Signal API takes (the `signal` of list and delete answers). */
export interface AccountSignal {
  rpId: string;
  /** The WebAuthn user handle, base64url. */
  userId: string;
  allAcceptedCredentialIds: string[];
  name: string;
  displayName: string;
}
