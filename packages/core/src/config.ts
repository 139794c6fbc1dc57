import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { TrustOptions } from './metadata/policy.js';
import type { PassgateStores } from './stores.js';
import type { TelemetryOptions } from './telemetry.js';
import type { UserVerificationRequirement } from './types.js';

/** What the framework layer knows about the request, for per-request relying-party settings and limits. */
export interface RequestContext {
  /** The client's IP as the application's proxy settings resolve it. */
  ip?: string;
  /** The Host header (without scheme), for multi-tenant RP IDs. */
  host?: string;
  /** The Origin header, when the browser sent one. */
  origin?: string;
}

export interface RelyingPartyOptions {
  /** Shown by authenticators, e.g. "Acme". */
  name: string;
  /**
   * The RP ID: a registrable domain suffix of the origins (`example.com` serves `app.example.com`).
   * A function picks one per request (multi-tenant hosts); it is stored with the ceremony, so verify
   * uses what options used.
   */
  id: string | ((context: RequestContext) => string);
  /**
   * Allowed origins of the page, e.g. `['https://example.com', 'https://www.example.com']`: https,
   * or http on localhost. A function picks them per request (multi-tenant hosts); what it returns is
   * checked on each call and stored with the ceremony.
   */
  origins: string[] | ((context: RequestContext) => string[]);
  /**
   * Related origins (WebAuthn Level 3 related origin requests): other sites whose pages use this RP
   * ID, e.g. `['https://example.co.uk', 'https://example-shop.com']`. Served in this order at
   * `GET /.well-known/webauthn` (the site root of the RP ID, by both framework packages) and accepted
   * like `origins`. Checked at start as browsers read them: https, a registrable domain each, at most
   * five distinct registrable-domain labels. Default `[]` (the well-known answers 404).
   */
  relatedOrigins?: string[] | ((context: RequestContext) => string[]);
  /**
   * Native app origins, matched exactly (never by pattern): `android:apk-key-hash:<base64url SHA-256
   * of the signing certificate>` for Android apps using Credential Manager. iOS apps send the https
   * origin of their associated domain, so they need nothing here. See `assetLinks()` and
   * `appleAppSiteAssociation()` for the files that tie the apps to the site. Default `[]`.
   */
  appOrigins?: string[];
  /**
   * Top-level origins allowed to embed the ceremony in a cross-origin iframe. Default `[]`: a response
   * whose client data says `crossOrigin: true` is rejected.
   */
  topOrigins?: string[];
}

/**
 * Which attestation to ask for and accept.
 * - `none` (default): no attestation is asked for; whatever statement arrives is still verified.
 * - `direct`: an attestation is required. Statements with a certificate chain must chain to one of
 *   `rootCertificates` for their format (there is no "trust anything" mode: @simplewebauthn/server
 *   skips the chain check when it has no roots, so Passgate refuses to start without them unless only
 *   self attestation is allowed).
 */
export type AttestationPolicy =
  | { conveyance: 'none' }
  | {
      conveyance: 'direct';
      /** PEM roots per attestation format, e.g. `{ packed: [pem], tpm: [pem] }`. */
      rootCertificates?: Record<string, string[]>;
      /** Accept packed self attestation (no certificate). Default false. */
      allowSelfAttestation?: boolean;
    };

export interface PolicyOptions {
  /** Default `preferred`: ask for UV, accept without it. `required` rejects responses without the UV flag. */
  userVerification?: UserVerificationRequirement;
  /** Default `required`: discoverable credentials, for usernameless sign-in and autofill. */
  residentKey?: 'required' | 'preferred' | 'discouraged';
  /** Default `{ conveyance: 'none' }`. */
  attestation?: AttestationPolicy;
  /** COSE algorithms offered, in preference order, and the only ones accepted. Default `[-8, -7, -257]`. */
  algorithms?: number[];
  /** How long a ceremony may take, in seconds: the challenge's time to live. Default 300. */
  challengeTtlSeconds?: number;
  /** The `timeout` hint sent to the browser, in milliseconds. Default: the challenge TTL. */
  timeoutMs?: number;
  /** Accept only device-bound credentials (backup eligibility unset), e.g. for regulated apps. Default false. */
  deviceBoundOnly?: boolean;
  /** Accept only these authenticator models (AAGUIDs) at registration. Default: any. Self-reported unless attested. */
  allowedAaguids?: string[];
  /** Refuse these authenticator models (AAGUIDs) at registration. Default: none. */
  deniedAaguids?: string[];
  /**
   * Which authenticators to trust, with attestation and the FIDO Metadata Service (MDS3): statuses,
   * certification level, attested only, device-bound per account. Default: none (see `TrustOptions`).
   */
  trust?: TrustOptions;
}

/** A bucket: `points` requests per `durationSeconds`. */
export interface RateLimitBucket {
  points: number;
  durationSeconds: number;
}

export interface RateLimitOptions {
  /**
   * One bucket per client IP shared by every options and verify request. Default 60 per 60 s:
   * a person needs 2–4 requests per ceremony, so a busy NAT still fits ~15 ceremonies a minute,
   * while one address can write at most one pending challenge a second. `false` turns it off.
   * Pass a rate-limiter-flexible limiter (e.g. `RateLimiterRedis`) to share it between instances.
   */
  perIp?: RateLimitBucket | RateLimiterAbstract | false;
  /**
   * One bucket per account counting failed verifications. Default 10 per 900 s, which stops online
   * guessing against one account without locking out someone who fumbles a few times. `false` turns it off.
   */
  accountFailures?: RateLimitBucket | RateLimiterAbstract | false;
}

/** Passgate logs through this; it never passes challenges, keys, signatures or session ids. */
export interface PassgateLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface PassgateOptions {
  rp: RelyingPartyOptions;
  stores: PassgateStores;
  /**
   * Server secret, at least 32 bytes (a string of 32+ characters or bytes): the HMAC key that derives
   * the stable decoy credential ids returned for unknown usernames. Keep it stable across restarts and
   * instances, or the decoys change and reveal that the account does not exist.
   */
  secret: string | Uint8Array;
  policy?: PolicyOptions;
  /** Whether people without an account may sign up with a passkey. Default true. */
  signUp?: boolean;
  rateLimits?: RateLimitOptions;
  /** Sensitive actions (deleting a passkey) need a sign-in at most this old, in seconds. Default 300. */
  reauthenticationWindowSeconds?: number;
  /** Let an account delete its only passkey (apps with another way to sign in). Default false. */
  allowDeletingLastCredential?: boolean;
  /**
   * Adding a passkey to a signed-in account needs a sign-in within the reauthentication window too
   * (`reauthentication_required` otherwise), so a stolen session cannot plant its own passkey for
   * lasting access. An application's own sign-in counts with the `authenticatedAt` its `identify`
   * gives. Default true (contract 1.1); false turns the check off.
   */
  reauthenticateToAddPasskey?: boolean;
  /** Most passkeys one account may have. Default 25 (bounds excludeCredentials and stored ceremonies). */
  maxCredentialsPerAccount?: number;
  /**
   * The application's own AAGUID → name entries for `authenticatorName` (security keys, its own fleet),
   * added to and overriding the built-in community list of passkey providers. Default `{}`.
   */
  authenticatorNames?: Record<string, string>;
  /**
   * Canonical form of a username, applied before every lookup and before storing.
   * Default: Unicode NFC and trimmed (case kept, so `user.name` is what the person typed).
   * For case-insensitive usernames: `(u) => u.normalize('NFKC').trim().toLowerCase()`.
   */
  normalizeUsername?: (username: string) => string;
  /** The application user id for a new account at sign-up. Default `crypto.randomUUID()`. */
  createUserId?: () => string;
  /**
   * Where Passgate logs. Default `consoleLogger`: warnings and errors (a store that fails, a bug
   * answered as 500, a misconfiguration) go to the console, debug and info nowhere. Pass
   * `silentLogger` to turn it off, or your own (pino, winston, ...) with the same four methods.
   */
  logger?: PassgateLogger;
  /** Clock in milliseconds since the epoch (tests). Default `Date.now`. */
  now?: () => number;
  /**
   * Imported public keys kept for the sign-in verification fast path (see `createAssertionVerifier`),
   * least recently used evicted first. Default 10,000. 0 sends every sign-in through
   * `@simplewebauthn/server`'s `verifyAuthenticationResponse` unchanged.
   */
  publicKeyCacheSize?: number;
  /**
   * OpenTelemetry spans and metrics (`docs/telemetry.md`), recorded when `@opentelemetry/api` is
   * installed: through its global providers by default, or the ones given here. `false` turns them
   * off. Credential ids stay out of spans unless `recordCredentialIds` is set.
   */
  telemetry?: TelemetryOptions | false;
}

export const DEFAULTS = {
  userVerification: 'preferred',
  residentKey: 'required',
  algorithms: [-8, -7, -257],
  challengeTtlSeconds: 300,
  reauthenticationWindowSeconds: 300,
  maxCredentialsPerAccount: 25,
  perIp: { points: 60, durationSeconds: 60 },
  accountFailures: { points: 10, durationSeconds: 900 },
} as const;

/** Logs nothing. */
export const silentLogger: PassgateLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The default: warnings and errors to the console, debug and info nowhere. */
export const consoleLogger: PassgateLogger = {
  debug() {},
  info() {},
  warn(message, fields) {
    console.warn(`[passgate] ${message}`, ...(fields ? [fields] : []));
  },
  error(message, fields) {
    console.error(`[passgate] ${message}`, ...(fields ? [fields] : []));
  },
};
