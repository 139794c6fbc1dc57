import { randomUUID } from 'node:crypto';
import { createAuthenticatorNamer } from './authenticator-names.js';
import { type CborLimits, DEFAULT_CBOR_LIMITS } from './cbor-guard.js';
import {
  type AttestationPolicy,
  consoleLogger,
  DEFAULTS,
  type PassgateLogger,
  type PassgateOptions,
  type RequestContext,
} from './config.js';
import { PassgateEvents } from './events.js';
import { type AssertionVerifier, createAssertionVerifier } from './fast-assertion.js';
import { resolveTrustOptions, type TrustOptions } from './metadata/policy.js';
import { assertWebOrigin, resolveOrigins } from './origins.js';
import { RateLimits } from './rate-limits.js';
import { storeFailure } from './store-failures.js';
import {
  type CountingStore,
  type PassgateStores,
  type SignInStore,
  usableCountingStore,
  usableSignInStore,
} from './stores.js';
import { createTelemetry, type Telemetry } from './telemetry.js';
import type { UserVerificationRequirement } from './types.js';

/** The resolved policy: every default applied, checked once at start. */
export interface ResolvedPolicy {
  userVerification: UserVerificationRequirement;
  residentKey: 'required' | 'preferred' | 'discouraged';
  attestation: AttestationPolicy;
  algorithms: number[];
  challengeTtlMs: number;
  timeoutMs: number;
  deviceBoundOnly: boolean;
  allowedAaguids: Set<string> | null;
  deniedAaguids: Set<string>;
}

/** Everything the ceremonies share, resolved from `PassgateOptions` once. */
export interface Runtime {
  stores: PassgateStores;
  rpName: string;
  rpId(context: RequestContext): string;
  /** Every origin accepted for this request: the RP's own, its related origins and app origins. */
  origins(context: RequestContext): string[];
  /** The related origins served at `/.well-known/webauthn` for this request (`[]`: none). */
  relatedOrigins(context: RequestContext): string[];
  topOrigins: string[];
  policy: ResolvedPolicy;
  /** `policy.trust`, checked; `null` when not configured. */
  trust: TrustOptions | null;
  signUp: boolean;
  secret: Uint8Array;
  limits: RateLimits;
  events: PassgateEvents;
  logger: PassgateLogger;
  now(): number;
  authenticatorName(aaguid: string): string | null;
  normalizeUsername(username: string): string;
  createUserId(): string;
  reauthenticationWindowMs: number;
  allowDeletingLastCredential: boolean;
  reauthenticateToAddPasskey: boolean;
  maxCredentialsPerAccount: number;
  cborLimits: CborLimits;
  /** Sign-in assertion verification (the fast path with the library's verdicts). */
  assertions: AssertionVerifier;
  /** Spans and metrics (OpenTelemetry), or a pass-through when off or not installed. */
  telemetry: Telemetry;
  /** `stores.signIn` when it reads through exactly `stores` (`usableSignInStore`); `null`: separate calls. */
  signInStore: SignInStore | null;
  /**
   * `stores.counting` when it keeps the buckets of the per-IP limiter in force and reads through
   * exactly `stores` (`usableCountingStore`); `null`: the limiter is called on its own.
   */
  countingStore: CountingStore | null;
  /**
   * Runs a store call. A PassgateError passes through (adapters mark outages with `storeUnavailable`);
   * a plain error with a Node.js network code is `store_unavailable` too; anything else is logged and
   * becomes `internal_error`.
   */
  store<T>(operation: string, call: () => Promise<T>): Promise<T>;
}

const config = (message: string) => new TypeError(`passgate: ${message}`);

export function createRuntime(options: PassgateOptions): Runtime {
  const { rp } = options;
  if (!rp || typeof rp.name !== 'string' || rp.name.length === 0) throw config('rp.name is required');
  if (typeof rp.id !== 'string' && typeof rp.id !== 'function') throw config('rp.id is required');
  if (typeof rp.id === 'string' && !/^[a-z0-9.-]+$/i.test(rp.id)) throw config('rp.id must be a host name');
  const origins = resolveOrigins(rp);
  const topOrigins = rp.topOrigins ?? [];
  for (const origin of topOrigins) assertWebOrigin(origin, 'rp.topOrigins');
  if (!options.stores?.challenges || !options.stores.credentials || !options.stores.accounts) {
    throw config('stores must provide challenges, credentials and accounts');
  }
  const secret =
    typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  if (secret === undefined || secret === null || (secret instanceof Uint8Array && secret.length === 0)) {
    // Most often an unset environment variable: say that, not that it is too short.
    throw config(
      'secret is required (none was given: is its environment variable set?); use at least 32 random ' +
        'bytes, the same on every instance and across restarts',
    );
  }
  if (!(secret instanceof Uint8Array) || secret.length < 32) throw config('secret must be at least 32 bytes');

  const policy = resolvePolicy(options);
  const logger = options.logger ?? consoleLogger;
  const staticRpId = typeof rp.id === 'string' ? rp.id : null;
  const reauthSeconds = options.reauthenticationWindowSeconds ?? DEFAULTS.reauthenticationWindowSeconds;
  if (!(reauthSeconds > 0)) throw config('reauthenticationWindowSeconds must be positive');
  const maxCredentials = options.maxCredentialsPerAccount ?? DEFAULTS.maxCredentialsPerAccount;
  const events = new PassgateEvents(logger);
  const telemetry = createTelemetry(options.telemetry, events);
  if (!Number.isInteger(maxCredentials) || maxCredentials < 1)
    throw config('maxCredentialsPerAccount must be >= 1');

  const limits = new RateLimits(options.rateLimits ?? {}, logger);

  return {
    stores: options.stores,
    rpName: rp.name,
    rpId: (context) => staticRpId ?? (rp.id as (c: RequestContext) => string)(context),
    origins: origins.accepted,
    relatedOrigins: origins.related,
    topOrigins,
    policy,
    trust: resolveTrustOptions(options.policy?.trust),
    signUp: options.signUp ?? true,
    secret,
    limits,
    events,
    logger,
    now: options.now ?? Date.now,
    authenticatorName: createAuthenticatorNamer(options.authenticatorNames),
    normalizeUsername: options.normalizeUsername ?? ((username) => username.normalize('NFC').trim()),
    createUserId: options.createUserId ?? randomUUID,
    reauthenticationWindowMs: reauthSeconds * 1000,
    allowDeletingLastCredential: options.allowDeletingLastCredential ?? false,
    reauthenticateToAddPasskey: options.reauthenticateToAddPasskey ?? true,
    maxCredentialsPerAccount: maxCredentials,
    cborLimits: DEFAULT_CBOR_LIMITS,
    assertions: createAssertionVerifier(
      options.publicKeyCacheSize === undefined ? {} : { maxCachedKeys: options.publicKeyCacheSize },
    ),
    telemetry,
    signInStore: usableSignInStore(options.stores),
    countingStore: usableCountingStore(options.stores, limits.perIpLimiter),
    store(operation, call) {
      return telemetry.store(operation, async () => {
        try {
          return await call();
        } catch (error) {
          throw storeFailure(error, operation, logger);
        }
      });
    },
  };
}

function resolvePolicy(options: PassgateOptions): ResolvedPolicy {
  const p = options.policy ?? {};
  const userVerification = p.userVerification ?? DEFAULTS.userVerification;
  if (!['required', 'preferred', 'discouraged'].includes(userVerification)) {
    throw config('policy.userVerification must be required, preferred or discouraged');
  }
  const residentKey = p.residentKey ?? DEFAULTS.residentKey;
  if (!['required', 'preferred', 'discouraged'].includes(residentKey)) {
    throw config('policy.residentKey must be required, preferred or discouraged');
  }
  const algorithms = p.algorithms ?? [...DEFAULTS.algorithms];
  if (algorithms.length === 0 || !algorithms.every(Number.isInteger)) {
    throw config('policy.algorithms must list COSE algorithm ids');
  }
  const attestation = p.attestation ?? { conveyance: 'none' };
  if (attestation.conveyance === 'direct') {
    const roots = Object.values(attestation.rootCertificates ?? {}).flat();
    if (roots.length === 0 && !attestation.allowSelfAttestation) {
      throw config('attestation "direct" needs rootCertificates (or allowSelfAttestation)');
    }
  } else if (attestation.conveyance !== 'none') {
    throw config('policy.attestation.conveyance must be none or direct');
  }
  const ttlSeconds = p.challengeTtlSeconds ?? DEFAULTS.challengeTtlSeconds;
  if (!(ttlSeconds > 0) || ttlSeconds > 3600) throw config('policy.challengeTtlSeconds must be in (0, 3600]');
  const lower = (list: string[] | undefined) => (list ? new Set(list.map((a) => a.toLowerCase())) : null);
  return {
    userVerification,
    residentKey,
    attestation,
    algorithms,
    challengeTtlMs: Math.round(ttlSeconds * 1000),
    timeoutMs: p.timeoutMs ?? Math.round(ttlSeconds * 1000),
    deviceBoundOnly: p.deviceBoundOnly ?? false,
    allowedAaguids: lower(p.allowedAaguids),
    deniedAaguids: lower(p.deniedAaguids) ?? new Set(),
  };
}
