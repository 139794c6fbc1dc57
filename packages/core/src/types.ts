/**
 * Data shapes shared by the ceremonies, the stores and the HTTP contract.
 *
 * Encoding rule, fixed once: every binary identifier (credential id, user handle) is carried as
 * base64url without padding, exactly as WebAuthn's JSON serialisation carries it. Stores keep
 * them in that form (or as the bytes it decodes to) and never re-encode them.
 */

export type AuthenticatorTransport = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';

/** `singleDevice`: device-bound (a security key). `multiDevice`: may be synced (backup eligible). */
export type CredentialDeviceType = 'singleDevice' | 'multiDevice';

export type UserVerificationRequirement = 'required' | 'preferred' | 'discouraged';

/** WebAuthn Level 3 hints, passed to the browser in order. */
export type PublicKeyCredentialHint = 'security-key' | 'client-device' | 'hybrid';

/** A passkey as the credential repository keeps it. */
export interface StoredCredential {
  /** Credential id, base64url (1..1023 bytes decoded). Unique across all accounts. */
  id: string;
  /** User handle of the owning account, base64url. */
  userHandle: string;
  /** The credential public key as COSE_Key bytes, exactly as the authenticator data carried it. */
  publicKey: Uint8Array;
  /** COSE algorithm identifier of the key (-8 Ed25519, -7 ES256, -257 RS256, ...). */
  algorithm: number;
  /** Signature counter, an unsigned 32-bit integer (0 for authenticators that do not count). */
  counter: number;
  /** Transports the browser reported at registration, handed back in `allowCredentials`. */
  transports: AuthenticatorTransport[];
  /** Backup eligibility (BE flag), fixed at registration. */
  backupEligible: boolean;
  /** Backup state (BS flag) as of the latest ceremony. */
  backedUp: boolean;
  /** Authenticator model id, lower-case UUID form (all zeros when the authenticator hides it). */
  aaguid: string;
  /** Attestation statement format seen at registration (`none`, `packed`, ...). */
  attestationFormat: string;
  /** The user's own name for this passkey, or null (1..64 code points when set). */
  nickname: string | null;
  createdAt: Date;
  /** Time of the latest successful sign-in with this credential, null until the first. */
  lastUsedAt: Date | null;
}

/** An account as the account repository keeps it. */
export interface Account {
  /** The application's own user id (a string; opaque to Passgate). Unique. */
  userId: string;
  /** The WebAuthn user handle: random bytes (base64url), never derived from the user's name or id. Unique. */
  userHandle: string;
  /** The canonical username (see `normalizeUsername`), 1..64 code points. Unique. */
  username: string;
  /** Name shown by authenticators, 1..64 code points. */
  displayName: string;
  createdAt: Date;
}

/** A sign-in, as a session keeps it. Written by the framework packages, read back on each request. */
export interface PasskeySession {
  userId: string;
  userHandle: string;
  credentialId: string;
  /** When the passkey ceremony completed, in milliseconds since the epoch. */
  authenticatedAt: number;
  /** Whether the authenticator verified the user (UV flag) in that ceremony. */
  userVerified: boolean;
}

/**
 * A sign-in whose session is being written while the credential's update after the sign-in is still
 * in flight (`FinishAuthenticationInput.beginSignIn`): the two store writes overlap, so a sign-in on
 * a network store waits for one write instead of two in a row.
 */
export interface PendingSignIn {
  /** Settles when the session is written: resolves, or rejects as keeping the sign-in would (`store_unavailable` for an outage). */
  readonly kept: Promise<void>;
  /**
   * The sign-in did not stand (the credential's update refused it, or failed): removes what was
   * kept, after `kept` settled, so that no session cookie is sent and no stored session remains.
   * Rejects when the removal failed (logged; the session's id was never sent to the browser).
   */
  undo(): Promise<void>;
}

/** `User` of the HTTP contract. */
export interface UserView {
  id: string;
  name: string;
  displayName: string;
}

/** `Credential` of the HTTP contract. */
export interface CredentialView {
  id: string;
  nickname: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  deviceType: CredentialDeviceType;
  backedUp: boolean;
  transports: AuthenticatorTransport[];
  aaguid: string;
  authenticatorName: string | null;
}

/**
 * `Signal` of the HTTP contract: exactly what the browser's `signalAllAcceptedCredentials` and
 * `signalCurrentUserDetails` take.
 */
export interface SignalView {
  rpId: string;
  userId: string;
  allAcceptedCredentialIds: string[];
  name: string;
  displayName: string;
}
