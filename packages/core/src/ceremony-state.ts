import { PassgateError } from './errors.js';
import type { StoredTrust } from './metadata/policy.js';
import { pooledRandomBytes } from './random-pool.js';
import { countedInStore, countsInStore, type RequestCount } from './request-count.js';
import type { Runtime } from './runtime.js';
import type { UserVerificationRequirement } from './types.js';

/**
 * What a pending ceremony keeps server-side, under its random ceremony id, until its verify consumes
 * it. Everything the verify needs to decide comes from here — the challenge, the RP ID and origins,
 * and the policy in force when the options were made — never from the request that finishes it.
 */
export interface CeremonyBase {
  v: 1;
  challenge: string;
  rpId: string;
  origins: string[];
  topOrigins: string[];
  userVerification: UserVerificationRequirement;
  /** When the options were made, ms since the epoch. */
  createdAt: number;
}

/** What every registration ceremony keeps, whatever its mode. */
export interface RegistrationCeremonyBase extends CeremonyBase {
  kind: 'registration';
  algorithms: number[];
  attestation: 'none' | 'direct';
  /** Under `direct`: whether packed self attestation (no certificate) is enough. */
  allowSelfAttestation: boolean;
  /** `policy.trust` as it was when the options were made (absent: none configured). */
  trust?: StoredTrust;
  /**
   * `policy.deviceBoundOnly`, `allowedAaguids` and `deniedAaguids` as they were when the options
   * were made (AAGUIDs lower-case; `allowed: null` = any). Absent only in ceremonies stored by an
   * older version, whose verify falls back to the running policy.
   */
  authenticators?: StoredAuthenticatorPolicy;
  /** The new credential's user handle: the account's, or a fresh random one (`signup`, `link`). */
  userHandle: string;
}

/**
 * Who a registration is for, by mode; each mode holds exactly the fields its verify needs.
 * - `signup`: a new account with this username (no sign-in).
 * - `add`: a passkey for the signed-in account `userId`.
 * - `link`: the first passkey of an application's signed-in user `userId`, creating the account
 *   that links their user id to `userHandle`.
 *
 * `mediation: 'conditional'` (signed-in modes only): a conditional create, whose verify accepts a
 * response without user presence; absent for a modal create (user presence required).
 */
export type RegistrationSubject =
  | { mode: 'signup'; userHandle: string; username: string; displayName: string; mediation?: never }
  | { mode: 'add'; userHandle: string; userId: string; mediation?: 'conditional' }
  | {
      mode: 'link';
      userHandle: string;
      userId: string;
      username: string;
      displayName: string;
      mediation?: 'conditional';
    };

/** A pending registration: the shared fields plus one mode's subject (a discriminated union on `mode`). */
export type RegistrationCeremony = RegistrationCeremonyBase & RegistrationSubject;

/** The authenticator allow/deny policy of a registration ceremony, kept with it. */
export interface StoredAuthenticatorPolicy {
  deviceBoundOnly: boolean;
  allowed: string[] | null;
  denied: string[];
}

export interface AuthenticationCeremony extends CeremonyBase {
  kind: 'authentication';
  /** Username-first: the credential ids the options listed. `null`: discoverable (usernameless). */
  allowCredentialIds: string[] | null;
  /**
   * Username-first: the user handle of the account the options were made for (an unknown username's
   * stand-in handle), the only owner whose passkey the verify accepts (§7.2 step 6). It keys the
   * username's failure bucket too, so failures count against that username whether or not it
   * exists. Absent: discoverable (failures count against the credential's owner).
   */
  failureKey?: string;
}

export type CeremonyState = RegistrationCeremony | AuthenticationCeremony;

/** A ceremony's kind-specific fields (each member of the union without the shared ones). */
export type CeremonyFields = CeremonyState extends infer S
  ? S extends CeremonyState
    ? Omit<S, keyof CeremonyBase>
    : never
  : never;

/** 32 random bytes, base64url: the ceremony id (cookie value) and challenges. */
export function randomId(): string {
  return pooledRandomBytes(32).toString('base64url');
}

/** A well-formed ceremony id: exactly what `randomId` makes. Anything else never reaches the store. */
export function isCeremonyId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function serializeCeremony(state: CeremonyState): string {
  return JSON.stringify(state);
}

/** Parses stored state; anything unreadable counts as no ceremony (the caller answers ceremony_expired). */
export function parseCeremony(value: string): CeremonyState | null {
  try {
    const state = JSON.parse(value) as CeremonyState;
    if (state?.v !== 1 || (state.kind !== 'registration' && state.kind !== 'authentication')) return null;
    return state;
  } catch {
    return null;
  }
}

/**
 * Keeps a new ceremony under a fresh random id for the policy's TTL; returns the id. With a pending
 * `count` and a counting store, the request is counted in the same store operation (`rate_limited`
 * when refused, and then nothing is stored).
 */
export async function putCeremony(
  runtime: Runtime,
  state: CeremonyState,
  count?: RequestCount,
): Promise<string> {
  const value = serializeCeremony(state);
  const ceremonyId = randomId();
  const ttlMs = runtime.policy.challengeTtlMs;
  const stored = countsInStore(runtime, count)
    ? await countedInStore(runtime, count, 'counting.putCounted', (store, key) =>
        store.putCounted(key, ceremonyId, value, ttlMs),
      )
    : await runtime.store('challenges.put', () => runtime.stores.challenges.put(ceremonyId, value, ttlMs));
  // 256 random bits do not collide; a `false` here means a broken store.
  if (!stored) throw new PassgateError('internal_error', undefined, { reason: 'ceremony_id_collision' });
  return ceremonyId;
}

/** The ceremony id came from a cookie: consume it once, whatever happens next, and check its kind. */
export async function consumeCeremony<K extends CeremonyState['kind']>(
  runtime: Runtime,
  ceremonyId: string | undefined,
  kind: K,
): Promise<Extract<CeremonyState, { kind: K }>> {
  if (!isCeremonyId(ceremonyId)) throw new PassgateError('ceremony_expired');
  const value = await runtime.store('challenges.consume', () =>
    runtime.stores.challenges.consume(ceremonyId),
  );
  return ceremonyOfKind(value, kind);
}

/** A consumed ceremony's stored value as a ceremony of `kind`; `ceremony_expired` when it is none. */
export function ceremonyOfKind<K extends CeremonyState['kind']>(
  value: string | null,
  kind: K,
): Extract<CeremonyState, { kind: K }> {
  const state = value === null ? null : parseCeremony(value);
  if (!state || state.kind !== kind) throw new PassgateError('ceremony_expired');
  return state as Extract<CeremonyState, { kind: K }>;
}

/**
 * Stores a ceremony whose options were just made and returns what the caller hands out: the fields
 * every ceremony shares (RP, origins, user verification policy, creation time) come from here, the
 * kind-specific ones from `fields`.
 */
export async function storeNewCeremony<O extends { challenge: string }>(
  runtime: Runtime,
  where: { rpId: string; origins: string[] },
  options: O,
  fields: CeremonyFields,
  count?: RequestCount,
): Promise<{ ceremonyId: string; options: O; expiresAt: Date }> {
  const now = runtime.now();
  const state: CeremonyState = {
    v: 1,
    challenge: options.challenge,
    rpId: where.rpId,
    origins: where.origins,
    topOrigins: runtime.topOrigins,
    userVerification: runtime.policy.userVerification,
    createdAt: now,
    ...fields,
  };
  const ceremonyId = await putCeremony(runtime, state, count);
  return { ceremonyId, options, expiresAt: new Date(now + runtime.policy.challengeTtlMs) };
}
